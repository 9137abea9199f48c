"""A saturated signer pool answers 503 + Retry-After after its timeout, then recovers; a
running batch does not hold single requests back."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from tests.waiting import async_wait_until


async def test_saturated_pool_is_503_then_recovers(start_service: Any, make_request: Any) -> None:
    """The request waits for the slot at most the configured 50 ms (the limit the pool
    reports), then gets 503 and leaves the queue; nothing waits longer."""
    service = await start_service({"signer_slots": 1, "signer_timeout": 0.05})
    pool = service.resources.runtime.pool
    headers = service.auth()
    with pool.acquire():  # the only slot, held by the test
        response = await service.client.post(
            "/v1/certificates", json=make_request(), headers=headers
        )
        assert response.status_code == 503
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"] == "signer_unavailable"
        assert response.json()["detail"] == "all 1 signer slots stayed busy for 0.050 s"
        assert response.headers["retry-after"] == "1"
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
    """A single request is answered while a batch of 1000 runs in its worker thread. The
    batch cannot finish before that answer (its last signature waits for it, up to 30 s):
    a single request held back behind the batch would make that wait time out."""
    service = await start_service({"max_batch_items": 1000, "signer_slots": 2})
    items = [make_request() for _ in range(1000)]
    batch_threads = service.resources.batch_threads
    issuer = service.resources.runtime.issuer
    loop_thread = threading.current_thread()
    single_answered = threading.Event()
    gate_opened: list[bool] = []
    signed_by_batch = 0
    try_sign = issuer.try_sign

    def sign_last_item_after_the_single(prepared: Any) -> Any:
        nonlocal signed_by_batch
        if threading.current_thread() is not loop_thread:  # the batch's worker thread
            signed_by_batch += 1
            if signed_by_batch == len(items):
                gate_opened.append(single_answered.wait(30))
        return try_sign(prepared)

    issuer.try_sign = sign_last_item_after_the_single  # type: ignore[method-assign]
    batch = asyncio.create_task(
        service.client.post("/v1/certificates/batch", json={"items": items}, headers=service.auth())
    )
    await async_wait_until(
        lambda: batch_threads.borrowed_tokens == 1, what="the batch running in its thread"
    )
    response = await service.client.post(
        "/v1/certificates", json=make_request(), headers=service.auth(service.pharmacist_key)
    )
    assert response.status_code == 201
    assert not batch.done()
    single_answered.set()
    result = await batch
    assert result.status_code == 200
    assert result.json()["issued"] == 1000
    assert gate_opened == [True], "the batch's last item waited in vain for the single"
