"""Group commit: the register rows of concurrent requests share one transaction.

Every issuing request awaits :meth:`GroupCommit.record` before it answers, so that no
certificate leaves without its row. While one transaction is being committed, the rows of
the requests that arrive queue up; the next transaction takes all of them (up to
:data:`MAX_GROUP_ROWS`), so a commit (an fsync) is paid once per group, not per
certificate. A request alone is committed at once: nobody waits for a timer. On
PostgreSQL up to ``max_writers`` transactions run at once (the server flushes concurrent
commits together), so a request that arrives during a commit need not wait for it; SQLite
has one writer at a time, so it keeps one.

A :class:`GroupWriter` writes each group: on PostgreSQL the
:class:`~store.postgres_writer.PostgresGroupWriter` (one ``INSERT … unnest`` statement, one
round trip), on a SQLite file the :class:`~store.sqlite_writer.SqliteGroupWriter` (one
thread hop instead of one per statement), elsewhere (in-memory SQLite) the
:class:`EngineGroupWriter` through the async engine.

A stored idempotent response (:class:`~store.idempotency.Completion`) is written in the
same transaction as its rows. When the transaction fails, every request of the group gets
the :class:`~store.errors.StoreUnavailable` (the API answers 503): rows may or may not
exist then, but no certificate was handed out.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final, Protocol

from sqlalchemy.ext.asyncio import AsyncEngine

from store.engine import unavailable_on_error
from store.idempotency import Completion, complete
from store.register import IssuanceRecord, insert_rows

__all__ = ["MAX_GROUP_ROWS", "CommitObserver", "EngineGroupWriter", "GroupCommit", "GroupWriter"]

MAX_GROUP_ROWS: Final = 2000

CommitObserver = Callable[[int, int, float], None]
"""Called after each commit with (requests, rows, seconds)."""


class GroupWriter(Protocol):
    """Writes one group's rows and stored responses in one transaction."""

    async def write(
        self, rows: Sequence[IssuanceRecord], completions: Sequence[Completion]
    ) -> None: ...

    async def close(self) -> None: ...


class EngineGroupWriter:
    """A group's transaction through the async engine (any backend; in-memory SQLite)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def write(
        self, rows: Sequence[IssuanceRecord], completions: Sequence[Completion]
    ) -> None:
        """Insert ``rows`` and store ``completions`` in one transaction."""
        async with self._engine.begin() as connection:
            await insert_rows(connection, rows)
            for completion in completions:
                await complete(connection, completion)

    async def close(self) -> None:
        """Nothing of its own to close (the store disposes of the engine)."""


@dataclass(slots=True)
class _Waiting:
    rows: Sequence[IssuanceRecord]
    completion: Completion | None
    done: asyncio.Future[None]


class GroupCommit:
    """Writes register rows (and stored responses) in shared transactions, one at a time."""

    def __init__(
        self,
        writer: GroupWriter,
        *,
        max_rows: int = MAX_GROUP_ROWS,
        max_writers: int = 1,
        observer: CommitObserver | None = None,
    ) -> None:
        self._writer = writer
        self._max_rows = max_rows
        self._max_writers = max_writers
        self._observer = observer
        self._waiting: list[_Waiting] = []
        self._writers: set[asyncio.Task[None]] = set()

    async def record(
        self, rows: Sequence[IssuanceRecord], completion: Completion | None = None
    ) -> None:
        """Return once ``rows`` (and ``completion``) are committed; raise StoreUnavailable."""
        await self.submit(rows, completion)

    def submit(
        self, rows: Sequence[IssuanceRecord], completion: Completion | None = None
    ) -> asyncio.Future[None]:
        """Queue ``rows`` (and ``completion``) for the next group; the future is done once
        they are committed (or holds the group's error).

        A caller may go on with other work (building its response) while the group commits,
        as long as it answers only once the future is done.
        """
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append(_Waiting(rows, completion, done))
        if len(self._writers) < self._max_writers:
            writer = asyncio.create_task(self._write_groups())
            self._writers.add(writer)
            writer.add_done_callback(self._writers.discard)
        return done

    async def close(self) -> None:
        """Wait for the transactions in progress."""
        if self._writers:
            await asyncio.wait(list(self._writers))
        await self._writer.close()

    def _next_group(self) -> list[_Waiting]:
        waiting, size, count = self._waiting, 0, 0
        for item in waiting:
            if count and size + len(item.rows) > self._max_rows:
                break
            size += len(item.rows)
            count += 1
        group, self._waiting = waiting[:count], waiting[count:]
        return group

    async def _write_groups(self) -> None:
        while self._waiting:
            await self._write(self._next_group())

    async def _write(self, group: list[_Waiting]) -> None:
        rows = [row for item in group for row in item.rows]
        started = time.perf_counter()
        completions = [item.completion for item in group if item.completion is not None]
        try:
            async with unavailable_on_error("register write"):
                await self._writer.write(rows, completions)
        except Exception as error:  # every waiter of the group gets the outcome
            for item in group:
                if not item.done.done():
                    item.done.set_exception(error)
            return
        for item in group:
            if not item.done.done():
                item.done.set_result(None)
        if self._observer is not None:
            self._observer(len(group), len(rows), time.perf_counter() - started)
