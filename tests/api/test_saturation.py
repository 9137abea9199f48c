"""A saturated signer pool answers 503 + Retry-After within its timeout, then recovers."""

from __future__ import annotations

import asyncio
import time
from typing import Any


async def test_saturated_pool_is_503_then_recovers(start_service: Any, make_request: Any) -> None:
    service = await start_service({"signer_slots": 1, "signer_timeout": 0.05})
    pool = service.resources.runtime.pool
    headers = service.auth()
    with pool.acquire():  # the only slot, held by the test
        started = time.perf_counter()
        response = await service.client.post(
            "/v1/certificates", json=make_request(), headers=headers
        )
        waited = time.perf_counter() - started
        assert response.status_code == 503
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"] == "signer_unavailable"
        assert response.headers["retry-after"] == "1"
        assert waited < 1.0  # bounded by the 50 ms timeout, never queued
        assert pool.waiting == 0
    again = await service.client.post("/v1/certificates", json=make_request(), headers=headers)
    assert again.status_code == 201
    text = (await service.client.get("/metrics")).text
    assert 'dcc_signer_wait_seconds_count{outcome="timeout"} 1.0' in text
    assert 'dcc_certificates_issued_total{outcome="unavailable",type="unknown"} 1.0' in text


async def test_batch_items_get_503_problems_while_the_pool_is_held(
    start_service: Any, make_request: Any
) -> None:
    service = await start_service({"signer_slots": 1, "signer_timeout": 0.05})
    pool = service.resources.runtime.pool
    with pool.acquire():
        response = await service.client.post(
            "/v1/certificates/batch",
            json={"items": [make_request(), make_request()]},
            headers=service.auth(),
        )
    assert response.status_code == 200
    body = response.json()
    assert body["failed"] == 2
    assert {r["error"]["status"] for r in body["results"]} == {503}
    assert {r["error"]["code"] for r in body["results"]} == {"signer_unavailable"}


async def test_a_running_batch_does_not_stall_single_requests(
    start_service: Any, make_request: Any
) -> None:
    service = await start_service({"max_batch_items": 1000, "signer_slots": 2})
    items = [make_request() for _ in range(1000)]
    batch_threads = service.resources.batch_threads
    batch = asyncio.create_task(
        service.client.post("/v1/certificates/batch", json={"items": items}, headers=service.auth())
    )
    for _ in range(400):  # until the batch runs in its worker thread
        if batch_threads.borrowed_tokens:
            break
        await asyncio.sleep(0.001)
    assert batch_threads.borrowed_tokens == 1
    single = time.perf_counter()
    response = await service.client.post(
        "/v1/certificates", json=make_request(), headers=service.auth(service.pharmacist_key)
    )
    single = time.perf_counter() - single
    assert response.status_code == 201
    assert batch_threads.borrowed_tokens == 1, "the batch ended first: nothing was measured"
    result = await batch
    assert result.status_code == 200
    assert result.json()["issued"] == 1000
    assert single < 0.5, f"a single request waited {single:.3f} s behind the batch"
