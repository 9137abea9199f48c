"""``POST /v1/certificates/render`` is charged to the caller's quota and bounded per account.

An account whose issue quota was spent used to render 100 QR codes and 24 PDFs at once.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

import api.routes.render
from api.ratelimit import Rate
from api.render_limits import RENDERS_PER_ACCOUNT
from issuer.issuer import IssuedCertificate
from tests.waiting import async_wait_until


async def _issue(service: Any, make_request: Any, key: str) -> str:
    response = await service.client.post(
        "/v1/certificates", json=make_request(), headers=service.auth(key)
    )
    assert response.status_code == 201, response.text
    hc1: str = response.json()["hc1"]
    return hc1


def _render(service: Any, hc1: str, key: str, accept: str = "image/png") -> Any:
    return service.client.post(
        "/v1/certificates/render",
        json={"hc1": hc1},
        headers={**service.auth(key), "Accept": accept},
    )


async def test_an_account_with_a_spent_quota_cannot_render(
    start_service: Any, make_request: Any
) -> None:
    service = await start_service({"rate_pharmacist": Rate.parse("3/hour")})
    key = service.pharmacist_key
    hc1 = await _issue(service, make_request, key)
    first = await _render(service, hc1, key)
    assert first.status_code == 200
    assert first.headers["RateLimit-Remaining"] == "1"
    assert (await _render(service, hc1, key, "application/pdf")).status_code == 200
    refused = await _render(service, hc1, key)
    assert refused.status_code == 429
    assert refused.json()["code"] == "rate_limited"
    assert "Retry-After" in refused.headers
    spent = await service.client.post(
        "/v1/certificates", json=make_request(), headers=service.auth(key)
    )
    assert spent.status_code == 429  # the renders used the same quota
    other = await _render(service, hc1, service.lab_key)
    assert other.status_code == 200  # another account's quota is its own


async def test_renders_of_one_account_are_bounded(
    service: Any, make_request: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    hc1 = await _issue(service, make_request, service.lab_key)
    real = api.routes.render._render_hc1
    release, lock = threading.Event(), threading.Lock()
    running = [0]

    def slow_render(*args: Any, **kwargs: Any) -> tuple[IssuedCertificate, bytes]:
        with lock:
            running[0] += 1
        release.wait(30)
        return real(*args, **kwargs)

    monkeypatch.setattr(api.routes.render, "_render_hc1", slow_render)
    key = service.pharmacist_key
    held = [asyncio.ensure_future(_render(service, hc1, key)) for _ in range(RENDERS_PER_ACCOUNT)]
    await async_wait_until(lambda: running[0] == RENDERS_PER_ACCOUNT, what=lambda: f"{running}")
    refused = await _render(service, hc1, key)
    assert refused.status_code == 429
    assert refused.json()["code"] == "render_concurrency"
    assert refused.headers["Retry-After"] == "1"
    other = asyncio.ensure_future(_render(service, hc1, service.lab_key))
    await async_wait_until(lambda: running[0] == RENDERS_PER_ACCOUNT + 1, what=lambda: f"{running}")
    release.set()
    answers = await asyncio.gather(*held, other)
    assert [answer.status_code for answer in answers] == [200] * (RENDERS_PER_ACCOUNT + 1)
    assert service.resources.render_slots.running == {}
    assert (await _render(service, hc1, key)).status_code == 200
