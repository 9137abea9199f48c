"""Plain routes (api.plain_route): served outside FastAPI, answered and documented alike."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response

from api.plain_route import PlainRoute
from api.problems import PROBLEM_MEDIA_TYPE
from signing.errors import ConfigError, FieldError, RequestInvalid


async def _handler(request: Request) -> Response:
    kind = request.query_params.get("fail")
    if kind == "invalid":
        raise RequestInvalid([FieldError("person.family_name", "required", "is required")])
    if kind == "config":
        raise ConfigError("/secret/path is broken", code="config_broken")
    return Response(b"ok", 201, {"x-route": str(request.scope["route"].path)})


@pytest.fixture
async def client() -> Any:
    app = Starlette(routes=[PlainRoute("/things", _handler, methods=["POST"])])
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


async def test_the_handler_answers_and_sees_its_route(client: httpx.AsyncClient) -> None:
    response = await client.post("/things")
    assert response.status_code == 201
    assert response.headers["x-route"] == "/things"


async def test_a_dcc_error_is_a_problem(client: httpx.AsyncClient) -> None:
    response = await client.post("/things", params={"fail": "invalid"})
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    assert response.json()["errors"] == [
        {"field": "person.family_name", "code": "required", "message": "is required"}
    ]


async def test_a_late_start_up_error_is_a_hidden_500(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    response = await client.post("/things", params={"fail": "config"})
    assert response.status_code == 500
    assert response.json()["code"] == "internal_error"
    assert "/secret" not in response.text
    assert "config_broken" in caplog.text
    assert "/things" in caplog.text


async def test_the_issue_route_is_documented_like_a_fastapi_route(service: Any) -> None:
    document = (await service.client.get("/openapi.json")).json()
    operation = document["paths"]["/v1/certificates"]["post"]
    assert operation["summary"] == "Issue one test certificate"
    assert operation["tags"] == ["certificates"]
    assert operation["security"] == [{"ApiKey": []}]
    assert "201" in operation["responses"]
    assert "429" in operation["responses"]
    assert operation["requestBody"]["content"]["application/json"]["schema"]
    assert "get" not in document["paths"]["/v1/certificates"]


async def test_the_issue_route_answers_problems_with_the_service_headers(service: Any) -> None:
    response = await service.client.post("/v1/certificates", json={})
    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["www-authenticate"].startswith("Bearer")
