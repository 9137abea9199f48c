"""The bare endpoint of bench 4 answers like an issue without doing one.

``POST /v1/certificates`` must answer 201 with valid JSON of exactly the configured size
(the size of a real issue response, so both endpoints of the comparison move the same
bytes), as a FastAPI route and as a plain route; other methods are refused like a real
route refuses them. Also served for real through its ``main`` (see ``bare_server``).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from loadtests.bare_app import PLAIN_ENV, RESPONSE_BYTES_ENV, constant_body, create_bare_app
from loadtests.servers import Server

MINIMUM = len(b'{"uvci":"bare","padding":""}')


@pytest.mark.parametrize("size", [MINIMUM, MINIMUM + 1, 1200, 4096])
def test_constant_body_is_json_of_exactly_the_size(size: int) -> None:
    body = constant_body(size)
    assert len(body) == size
    assert json.loads(body)["uvci"] == "bare"


@pytest.mark.parametrize("size", [-5, 0, MINIMUM - 1])
def test_constant_body_never_shrinks_below_valid_json(size: int) -> None:
    body = constant_body(size)
    assert len(body) == MINIMUM
    assert json.loads(body) == {"uvci": "bare", "padding": ""}


@pytest.fixture(params=["fastapi", "plain"])
async def client(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[httpx.AsyncClient]:
    monkeypatch.setenv(RESPONSE_BYTES_ENV, "1234")
    monkeypatch.setenv(PLAIN_ENV, "1" if request.param == "plain" else "0")
    transport = httpx.ASGITransport(app=create_bare_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://bare") as http:
        yield http


async def test_post_answers_201_with_json_of_the_requested_size(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/certificates", content=b'{"person": {}}' * 50)
    assert response.status_code == 201
    assert response.headers["content-type"] == "application/json"
    assert len(response.content) == 1234
    assert int(response.headers["content-length"]) == 1234
    assert json.loads(response.content)["uvci"] == "bare"


async def test_other_methods_are_refused(client: httpx.AsyncClient) -> None:
    assert (await client.get("/v1/certificates")).status_code == 405
    assert (await client.post("/v1/nothing")).status_code == 404


async def test_health_answers_ok(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_the_route_kind_follows_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PLAIN_ENV, "1")
    plain = create_bare_app()
    monkeypatch.setenv(PLAIN_ENV, "0")
    routed = create_bare_app()

    def kind(app: FastAPI) -> str:
        routes = [r for r in app.router.routes if getattr(r, "path", "") == "/v1/certificates"]
        assert len(routes) == 1
        # the framework's route class (PlainRoute is a Starlette Route)
        return next(
            cls.__name__
            for cls in type(routes[0]).__mro__
            if cls.__module__.startswith(("starlette.", "fastapi."))
        )

    assert kind(plain) == "Route"
    assert kind(routed) == "APIRoute"


async def test_default_size_without_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(RESPONSE_BYTES_ENV, raising=False)
    monkeypatch.delenv(PLAIN_ENV, raising=False)
    transport = httpx.ASGITransport(app=create_bare_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://bare") as http:
        response = await http.post("/v1/certificates", content=b"{}")
    assert response.status_code == 201
    assert len(response.content) == 1200


def test_served_by_its_main_with_the_size_asked_for(
    bare_server: Server, bare_response_bytes: int
) -> None:
    with httpx.Client(base_url=bare_server.url, timeout=10) as http:
        response = http.post("/v1/certificates", content=b'{"x": 1}')
        assert response.status_code == 201
        assert len(response.content) == bare_response_bytes
        assert json.loads(response.content)["uvci"] == "bare"
        assert "server" not in response.headers  # dcc serve's uvicorn settings
        assert http.get("/v1/certificates").status_code == 405
