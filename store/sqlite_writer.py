"""The group commit's writer for a SQLite file: one thread hop and one driver call per group.

Through aiosqlite every statement of a transaction is a round trip between the event loop
and aiosqlite's thread (BEGIN, the insert's cursor, execute and close, COMMIT, the pool's
reset): about eight wake-ups per group. :class:`SqliteGroupWriter` runs the whole
transaction in one call on its own thread, on a connection of the standard library's
``sqlite3`` with the engine's pragmas (:func:`store.engine.sqlite_connected`: WAL,
``synchronous=FULL``, so the row is on disk before the answer) and busy timeout. The group
is one ``INSERT … SELECT … FROM json_each(?)`` over the rows as one JSON array, and
without a stored response to write it is its own transaction: one call into SQLite, which
releases the GIL once. Through SQLAlchemy's executemany a group cost ~400 µs of CPU plus
~21 µs per row (a dict and parameter processing per row, the engine's checkout and reset
per group; measured, 100 rows: 2.5 ms), and ``sqlite3.executemany`` gives the GIL up and
takes it back for every row: with a busy event loop in the same process, 100 rows waited
142 ms for the GIL against 13 ms as one statement.

The workers of one machine (``dcc serve --workers N``) share the file, and SQLite lets one
of them write at a time: a writer that finds the file locked sleeps in SQLite's busy
handler (1, 2, 5, 10, … 100 ms) and tries again, so under load every contended commit
waited milliseconds longer than the commit it waited for (measured with 2 workers: ~2,900
requests/s, p99 77-99 ms). Each group writer therefore takes an exclusive ``flock`` on
``<database>-writer.lock`` around its transaction: the kernel queues the writers and wakes
the next one the moment the lock is released.

Errors are the engine's: a constraint violation is SQLAlchemy's ``IntegrityError``, any
other database error :class:`~store.errors.StoreUnavailable`.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import sqlite3
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from operator import attrgetter
from pathlib import Path
from typing import Any, Final

import orjson
from sqlalchemy.exc import IntegrityError

from store.engine import SQLITE_BUSY_TIMEOUT, sqlite_connected
from store.errors import StoreUnavailable
from store.idempotency import Completion
from store.register import IssuanceRecord

__all__ = ["INSERT_GROUP", "SqliteGroupWriter"]

_COLUMNS: Final = IssuanceRecord.__slots__
INSERT_GROUP: Final = (
    f"INSERT INTO issuance_register ({', '.join(_COLUMNS)}) SELECT "  # noqa: S608 (constants)
    + ", ".join(f"json_extract(value, '$[{i}]')" for i in range(len(_COLUMNS)))
    + " FROM json_each(?)"
)
_COMPLETE: Final = (
    "UPDATE idempotency_keys SET state = 'done', status = ?, media_type = ?, headers = ?, "
    "body = ? WHERE account_id = ? AND key = ?"
)
_ROW: Final = attrgetter(*IssuanceRecord.__slots__)


class SqliteGroupWriter:
    """Commits (rows, completions) to the SQLite file at ``path`` on a dedicated thread."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._lock_path = path.with_name(path.name + "-writer.lock")
        self._connection: sqlite3.Connection | None = None
        self._lock_fd: int | None = None
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="dcc-register")

    async def write(
        self, rows: Sequence[IssuanceRecord], completions: Sequence[Completion]
    ) -> None:
        """Insert ``rows`` and store ``completions`` in one transaction."""
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._thread, self._write, rows, completions)

    def _write(self, rows: Sequence[IssuanceRecord], completions: Sequence[Completion]) -> None:
        group = (orjson.dumps(list(map(_ROW, rows))).decode(),)
        try:
            with self._writer_lock():
                connection = self._connected()
                if not completions:  # one statement, its own transaction
                    connection.execute(INSERT_GROUP, group)
                    return
                connection.execute("BEGIN IMMEDIATE")
                try:
                    if rows:
                        connection.execute(INSERT_GROUP, group)
                    for completion in completions:
                        connection.execute(_COMPLETE, _completion_values(completion))
                except BaseException:
                    connection.execute("ROLLBACK")
                    raise
                connection.execute("COMMIT")
        except sqlite3.IntegrityError as error:
            raise IntegrityError(INSERT_GROUP, None, error) from error
        except sqlite3.Error as error:
            self._drop()
            raise StoreUnavailable.during("register write", error) from error

    def _connected(self) -> sqlite3.Connection:
        if self._connection is None:
            connection = sqlite3.connect(
                self._path, timeout=SQLITE_BUSY_TIMEOUT, check_same_thread=False
            )
            sqlite_connected(connection, None)
            self._connection = connection
        return self._connection

    def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(sqlite3.Error):
                connection.close()

    @contextlib.contextmanager
    def _writer_lock(self) -> Iterator[None]:
        """Hold the machine-wide writer lock of the database (on the writer's thread)."""
        if self._lock_fd is None:
            self._lock_fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)

    async def close(self) -> None:
        """Finish the transaction in progress and close the connection."""
        self._thread.shutdown(wait=True)
        self._drop()
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None


def _completion_values(completion: Completion) -> tuple[Any, ...]:
    claim, response = completion.claim, completion.response
    return (
        response.status,
        response.media_type,
        orjson.dumps(response.headers).decode(),
        response.body,
        claim.account_id,
        claim.key,
    )
