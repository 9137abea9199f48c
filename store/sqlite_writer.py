"""The group commit's writer for a SQLite file: one thread hop per transaction.

Through aiosqlite every statement of a transaction is a round trip between the event loop
and aiosqlite's thread (BEGIN, the insert's cursor, execute and close, COMMIT, the pool's
reset): about eight wake-ups per group, which profiling showed to be the largest CPU cost
of a single issue over HTTP. :class:`SqliteGroupWriter` runs the whole transaction in one
call on its own thread, with SQLAlchemy's synchronous engine on the same file, the same
pragmas (WAL, ``synchronous=FULL``: the row is on disk before the answer) and the same
busy timeout. PostgreSQL and in-memory SQLite keep the async engine.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from pathlib import Path

import sqlalchemy
from sqlalchemy import event

from store.engine import SQLITE_BUSY_TIMEOUT, sqlite_begin, sqlite_connected
from store.idempotency import Completion, completion_update
from store.register import IssuanceRecord
from store.schema import ISSUANCE_REGISTER

__all__ = ["SqliteGroupWriter"]


class SqliteGroupWriter:
    """Commits (rows, completions) to the SQLite file at ``path`` on a dedicated thread."""

    def __init__(self, path: Path) -> None:
        self._engine = sqlalchemy.create_engine(
            f"sqlite:///{path}", connect_args={"timeout": SQLITE_BUSY_TIMEOUT}
        )
        event.listen(self._engine, "connect", sqlite_connected)
        event.listen(self._engine, "begin", sqlite_begin)
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="dcc-register")

    async def write(
        self, rows: Sequence[IssuanceRecord], completions: Sequence[Completion]
    ) -> None:
        """Insert ``rows`` and store ``completions`` in one transaction (raises SQLAlchemy's
        errors, as the async engine would)."""
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._thread, self._write, rows, completions)

    def _write(self, rows: Sequence[IssuanceRecord], completions: Sequence[Completion]) -> None:
        with self._engine.begin() as connection:
            if rows:
                connection.execute(ISSUANCE_REGISTER.insert(), [asdict(row) for row in rows])
            for completion in completions:
                connection.execute(completion_update(completion))

    async def close(self) -> None:
        """Finish the transaction in progress and close the connection."""
        self._thread.shutdown(wait=True)
        self._engine.dispose()
