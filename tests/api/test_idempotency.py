"""Idempotent issuing and the register over HTTP, on both backends (SQLite, PostgreSQL).

A retry with the same ``Idempotency-Key`` and body gets the first answer byte for byte, with
no new certificate, no new register row and no quota spent; every certificate answered has
its register row.
"""

from __future__ import annotations

import asyncio
import copy
from typing import Any

import pytest

from api.idempotency import fingerprint
from api.ratelimit import Rate
from api.routes.certificates import ISSUE_PATH
from tests.accounts import upgrade

BATCH_PATH = "/v1/certificates/batch"


@pytest.fixture
async def service(start_service: Any, database_url: str) -> Any:
    """The app on a database of each backend."""
    return await start_service({"database_url": upgrade(database_url)})


def _keyed(service: Any, key: str, **extra: str) -> dict[str, str]:
    return {**service.auth(), "Idempotency-Key": key, **extra}


async def test_a_retry_replays_the_first_answer_byte_for_byte(
    service: Any, make_request: Any
) -> None:
    body = make_request()
    first = await service.client.post(ISSUE_PATH, json=body, headers=_keyed(service, "k-1"))
    assert first.status_code == 201
    again = await service.client.post(ISSUE_PATH, json=body, headers=_keyed(service, '"k-1"'))
    assert again.status_code == 201
    assert again.content == first.content
    assert again.headers["DCC-UVCI"] == first.headers["DCC-UVCI"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "ratelimit-remaining" not in again.headers  # no quota was asked
    assert await service.resources.store.register.count() == 1


async def test_a_replay_spends_no_quota(start_service: Any, make_request: Any) -> None:
    service = await start_service({"rate_lab": Rate.parse("1/hour")})
    body = make_request()
    answers = [
        await service.client.post(ISSUE_PATH, json=body, headers=_keyed(service, "once"))
        for _ in range(3)
    ]
    assert [answer.status_code for answer in answers] == [201, 201, 201]
    other = await service.client.post(ISSUE_PATH, json=make_request(), headers=service.auth())
    assert other.status_code == 429  # the one unit was spent once, by the first attempt


async def test_the_key_of_another_request_is_refused(service: Any, make_request: Any) -> None:
    await service.client.post(ISSUE_PATH, json=make_request(), headers=_keyed(service, "k"))
    changed = make_request()
    changed["person"]["given_name"] = "Anne"
    reused = await service.client.post(ISSUE_PATH, json=changed, headers=_keyed(service, "k"))
    assert (reused.status_code, reused.json()["code"]) == (422, "idempotency_key_reused")
    as_png = _keyed(service, "k", Accept="image/png")
    other_product = await service.client.post(ISSUE_PATH, json=make_request(), headers=as_png)
    assert other_product.status_code == 422
    assert await service.resources.store.register.count() == 1


async def test_a_retry_while_the_first_attempt_runs_is_409(service: Any, make_request: Any) -> None:
    """The key is held (in flight) by another attempt of the same request: 409, try later."""
    body = make_request()
    content = service.client.build_request("POST", ISSUE_PATH, json=body).content
    account = service.resources.accounts.authenticate(service.lab_key)
    held = fingerprint("POST", ISSUE_PATH, "json", content)
    await service.resources.store.idempotency.claim(account.id, "busy", held, now=10**10)
    answer = await service.client.post(ISSUE_PATH, json=body, headers=_keyed(service, "busy"))
    assert (answer.status_code, answer.json()["code"]) == (409, "idempotency_key_in_flight")
    assert await service.resources.store.register.count() == 0


async def test_a_failed_attempt_gives_the_key_back(service: Any, make_request: Any) -> None:
    broken = make_request()
    broken["person"]["date_of_birth"] = "next year"
    refused = await service.client.post(ISSUE_PATH, json=broken, headers=_keyed(service, "retry"))
    assert refused.status_code == 422
    fixed = await service.client.post(
        ISSUE_PATH, json=make_request(), headers=_keyed(service, "retry")
    )
    assert fixed.status_code == 201


@pytest.mark.parametrize("key", [b"", b"a" * 256, b"tab\there", "é".encode()])
async def test_a_malformed_key_is_400(service: Any, make_request: Any, key: bytes) -> None:
    headers = {**service.auth(), "Idempotency-Key": key}
    answer = await service.client.post(ISSUE_PATH, json=make_request(), headers=headers)
    assert (answer.status_code, answer.json()["code"]) == (400, "idempotency_key_invalid")


async def test_fifty_parallel_retries_of_a_batch_issue_one_set(
    service: Any, make_request: Any
) -> None:
    batch = {"items": [make_request() for _ in range(20)]}
    headers = _keyed(service, "batch-1")

    async def attempt() -> Any:
        return await service.client.post(BATCH_PATH, json=copy.deepcopy(batch), headers=headers)

    answers = await asyncio.gather(*(attempt() for _ in range(50)))
    statuses = {answer.status_code for answer in answers}
    assert statuses <= {200, 409}
    completed = [answer for answer in answers if answer.status_code == 200]
    assert completed
    assert len({answer.content for answer in completed}) == 1
    late = await attempt()  # after all of them: always the replay
    assert late.status_code == 200
    assert late.content == completed[0].content
    uvcis = [result["uvci"] for result in late.json()["results"]]
    assert len(set(uvcis)) == 20
    store = service.resources.store
    assert await store.register.count() == 20
    assert await store.register.uvcis(uvcis) == set(uvcis)


async def test_every_answered_certificate_has_its_register_row(
    service: Any, make_request: Any
) -> None:
    form = {**service.auth(service.pharmacist_key), "DCC-Channel": "form"}
    single = await service.client.post(ISSUE_PATH, json=make_request(), headers=form)
    batch = await service.client.post(
        BATCH_PATH, json={"items": [make_request(), {"bad": 1}]}, headers=service.auth()
    )
    register = service.resources.store.register
    row = await register.get(single.json()["uvci"])
    assert row is not None
    assert row.channel == "form"
    [issued, failed] = batch.json()["results"]
    assert "error" in failed
    batch_row = await register.get(issued["uvci"])
    assert batch_row is not None
    assert (batch_row.channel, batch_row.account_id) == ("batch", service.lab_id)
    assert await register.count() == 2


async def test_a_batch_is_charged_for_the_items_it_issues(
    start_service: Any, make_request: Any
) -> None:
    """Ten rejected items cost one unit (the flood guard), not ten."""
    service = await start_service({"rate_lab": Rate.parse("3/hour")})
    invalid = {"items": [{"person": {}} for _ in range(10)]}
    rejected = await service.client.post(BATCH_PATH, json=invalid, headers=service.auth())
    assert rejected.json()["failed"] == 10
    assert rejected.headers["ratelimit-remaining"] == "2"
    mixed = {"items": [make_request(), {"x": 1}, make_request()]}
    answer = await service.client.post(BATCH_PATH, json=mixed, headers=service.auth())
    assert answer.status_code == 200
    assert (answer.json()["issued"], answer.headers["ratelimit-remaining"]) == (2, "0")


async def test_keys_past_their_retention_are_purged_at_start(
    start_service: Any, database_url: str, make_request: Any
) -> None:
    """Stored responses hold personal data: a replica deletes them after the 24 h window."""
    from store.idempotency import RETENTION

    url = upgrade(database_url)
    first = await start_service({"database_url": url})
    await first.client.post(ISSUE_PATH, json=make_request(), headers=_keyed(first, "old"))
    later = first.resources.clock().timestamp() + RETENTION + 1
    from datetime import UTC, datetime

    second = await start_service(
        {"database_url": url}, clock=lambda: datetime.fromtimestamp(later, UTC)
    )
    from tests.waiting import async_wait_until

    assert await _stored(second) in (0, 1)  # the purge task may already have run

    async def gone() -> bool:
        return await _stored(second) == 0

    await async_wait_until(gone, what="the expired key was purged")


async def _stored(service: Any) -> int:
    from sqlalchemy import func, select

    from store.schema import IDEMPOTENCY_KEYS

    async with service.resources.store.engine.connect() as connection:
        query = select(func.count()).select_from(IDEMPOTENCY_KEYS)
        return int((await connection.execute(query)).scalar_one())
