"""The issuance register and its group commit, on both backends."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from store import Store
from store.group_commit import GroupCommit
from store.idempotency import Completion, Replay, StoredResponse
from store.register import IssuanceRecord, insert_rows
from tests.waiting import async_wait_until


def row(number: int, account: str = "a" * 16) -> IssuanceRecord:
    return IssuanceRecord(
        uvci=f"URN:UVCI:01:LU:{number:026d}#A",
        kid="AAECAwQFBgc=",
        account_id=account,
        member=None,
        test_type="LP217198-3",
        channel="single",
        issued_at=1_625_747_462 + number,
        expires_at=1_625_920_200,
        signature_hash="A" * 22 + "==",
        uci_hash="B" * 22 + "==",
        country_uci_hash="C" * 22 + "==",
    )


async def test_rows_are_durable_and_readable(store: Store) -> None:
    await store.commits.record([row(1), row(2)])
    assert await store.register.get(row(1).uvci) == row(1)
    assert await store.register.get("URN:UVCI:01:LU:NOPE#X") is None
    assert await store.register.count() == 2
    assert await store.register.uvcis([row(2).uvci, "other"]) == {row(2).uvci}


@pytest.fixture
async def group_commits(store: Store) -> AsyncIterator[Callable[..., GroupCommit]]:
    """Group commits of the test's own on ``store`` (closed after the test)."""
    made: list[GroupCommit] = []

    def make(**options: Any) -> GroupCommit:
        made.append(GroupCommit(store.group_writer(), **options))
        return made[-1]

    yield make
    for commits in made:
        await commits.close()


async def test_concurrent_requests_share_commits(
    store: Store, group_commits: Callable[..., GroupCommit]
) -> None:
    commits: list[tuple[int, int]] = []
    writer = group_commits(observer=lambda n, rows, _: commits.append((n, rows)))
    await writer.record([row(0)])
    assert commits == [(1, 1)]  # a request alone is committed at once
    await asyncio.gather(*(writer.record([row(i)]) for i in range(1, 201)))
    assert sum(rows for _, rows in commits) == 201
    assert len(commits) < 100  # requests that queued during a commit shared the next one
    assert await store.register.count() == 201


async def test_a_group_is_cut_at_its_row_limit(
    store: Store, group_commits: Callable[..., GroupCommit]
) -> None:
    commits: list[int] = []
    writer = group_commits(max_rows=10, observer=lambda _, rows, __: commits.append(rows))
    await asyncio.gather(*(writer.record([row(10 * i + j) for j in range(4)]) for i in range(8)))
    assert max(commits) <= 10
    assert await store.register.count() == 32


async def test_a_failed_transaction_fails_every_request_of_its_group(store: Store) -> None:
    await store.commits.record([row(1)])
    outcomes = await asyncio.gather(
        store.commits.record([row(1)]),  # the same UVCI again: the transaction fails
        store.commits.record([row(2)]),
        return_exceptions=True,
    )
    assert all(isinstance(outcome, Exception) for outcome in outcomes) or outcomes[1] is None
    assert await store.register.count() in (1, 2)
    await store.commits.record([row(3)])  # the writer carries on
    assert await store.register.get(row(3).uvci) is not None


async def test_a_stored_response_is_written_with_its_rows(store: Store) -> None:
    claim = await store.idempotency.claim("a" * 16, "retry-1", "f" * 64, now=100)
    assert not isinstance(claim, str | Replay)
    response = StoredResponse(201, "application/json", {"DCC-UVCI": row(7).uvci}, b'{"x":1}')
    await store.commits.record([row(7)], Completion(claim, response))
    replay = await store.idempotency.claim("a" * 16, "retry-1", "f" * 64, now=101)
    assert replay == Replay(response)
    assert await store.register.get(row(7).uvci) is not None


async def test_on_postgresql_a_blocked_commit_does_not_hold_up_the_next(
    store: Store, group_commits: Callable[..., GroupCommit]
) -> None:
    if store.url.backend != "postgresql":
        return  # SQLite has one writer at a time: the group commit keeps one
    writer = group_commits(max_writers=2)
    async with store.engine.connect() as other:
        transaction = await other.begin()
        await insert_rows(other, [row(1)])  # uncommitted: a second insert of it waits
        blocked = asyncio.ensure_future(writer.record([row(1)]))

        async def waits_on_the_lock() -> bool:
            query = text("SELECT count(*) FROM pg_locks WHERE NOT granted")
            async with store.engine.connect() as probe:
                return bool((await probe.execute(query)).scalar_one())

        await async_wait_until(waits_on_the_lock, what="the first commit waits on the lock")
        await writer.record([row(2)])  # a second writer commits meanwhile
        assert not blocked.done()
        await transaction.rollback()
    await blocked
    assert await store.register.uvcis([row(1).uvci, row(2).uvci]) == {row(1).uvci, row(2).uvci}


async def test_a_group_keeps_every_column_of_every_row(store: Store) -> None:
    rows = [row(1), replace(row(2), member="member-9", channel="batch", test_type="LP6464-4")]
    rows.append(replace(row(3, account="b" * 16), issued_at=2**40, expires_at=2**41))
    await asyncio.gather(*(store.commits.record([one]) for one in rows))
    assert [await store.register.get(one.uvci) for one in rows] == rows


async def test_a_failed_group_stores_neither_its_rows_nor_its_response(store: Store) -> None:
    await store.commits.record([row(1)])
    claim = await store.idempotency.claim("a" * 16, "retry-2", "f" * 64, now=100)
    assert not isinstance(claim, str | Replay)
    response = StoredResponse(201, "application/json", {}, b"{}")
    with pytest.raises(IntegrityError):  # row(1) again: the one transaction fails
        await store.commits.record([row(2), row(1)], Completion(claim, response))
    assert await store.register.get(row(2).uvci) is None
    again = await store.idempotency.claim("a" * 16, "retry-2", "f" * 64, now=101)
    assert again == "in_flight"  # the response was not stored either
