"""Idempotency keys: one claim wins, retries replay, other requests with the key are refused."""

from __future__ import annotations

import asyncio

from store import Store
from store.idempotency import LEASE, RETENTION, Claimed, Completion, Replay, StoredResponse

ACCOUNT = "0123456789abcdef"
RESPONSE = StoredResponse(200, "application/json", {"X": "1"}, b"\x00binary\xff body")


async def _completed(store: Store, key: str, *, now: int) -> Claimed:
    claim = await store.idempotency.claim(ACCOUNT, key, "fp", now=now)
    assert isinstance(claim, Claimed)
    await store.commits.record([], Completion(claim, RESPONSE))
    return claim


async def test_the_first_claim_wins_and_the_others_see_it_in_flight(store: Store) -> None:
    outcomes = await asyncio.gather(
        *(store.idempotency.claim(ACCOUNT, "k", "fp", now=10) for _ in range(20))
    )
    assert sum(isinstance(outcome, Claimed) for outcome in outcomes) == 1
    assert [o for o in outcomes if not isinstance(o, Claimed)] == ["in_flight"] * 19


async def test_a_completed_request_replays_byte_for_byte(store: Store) -> None:
    await _completed(store, "k", now=10)
    replay = await store.idempotency.claim(ACCOUNT, "k", "fp", now=20)
    assert isinstance(replay, Replay)
    assert replay.response == RESPONSE
    assert replay.response.body == b"\x00binary\xff body"


async def test_the_key_of_another_request_is_a_mismatch(store: Store) -> None:
    await _completed(store, "k", now=10)
    assert await store.idempotency.claim(ACCOUNT, "k", "other", now=20) == "mismatch"
    other_account = await store.idempotency.claim("f" * 16, "k", "other", now=20)
    assert isinstance(other_account, Claimed)  # keys are per account


async def test_a_released_claim_lets_the_retry_start_afresh(store: Store) -> None:
    claim = await store.idempotency.claim(ACCOUNT, "k", "fp", now=10)
    assert isinstance(claim, Claimed)
    await store.idempotency.release(claim)
    assert isinstance(await store.idempotency.claim(ACCOUNT, "k", "fp", now=11), Claimed)


async def test_an_abandoned_claim_is_taken_over_after_the_lease(store: Store) -> None:
    assert isinstance(await store.idempotency.claim(ACCOUNT, "k", "fp", now=10), Claimed)
    assert await store.idempotency.claim(ACCOUNT, "k", "fp", now=10 + LEASE - 1) == "in_flight"
    taken = await store.idempotency.claim(ACCOUNT, "k", "fp", now=10 + LEASE)
    assert taken == Claimed(ACCOUNT, "k", 10 + LEASE)


async def test_keys_are_forgotten_after_the_retention(store: Store) -> None:
    await _completed(store, "old", now=10)
    await _completed(store, "new", now=10 + RETENTION)
    fresh = await store.idempotency.claim(ACCOUNT, "old", "different", now=10 + RETENTION)
    assert isinstance(fresh, Claimed)
    assert await store.idempotency.purge(now=20 + 2 * RETENTION) == 2
