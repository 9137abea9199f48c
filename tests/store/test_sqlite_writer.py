"""The SQLite group writer: one statement per group, writers of several workers in turn."""

from __future__ import annotations

import asyncio
import fcntl
import os
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from store import Store
from store.register import IssuanceRecord
from store.sqlite_writer import SqliteGroupWriter
from tests.store.test_register import row


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    """A migrated SQLite file store (closed after the test)."""
    opened = Store.open(f"sqlite:///{tmp_path / 'dcc.sqlite3'}")
    await opened.upgrade()
    yield opened
    await opened.close()


@pytest.fixture
async def writers(store: Store) -> AsyncIterator[list[SqliteGroupWriter]]:
    """Two writers of the store's file, as two workers hold them (closed after the test)."""
    path = store.url.sqlite_path
    assert path is not None
    made = [SqliteGroupWriter(path), SqliteGroupWriter(path)]
    yield made
    for writer in made:
        await writer.close()


async def test_writers_of_two_workers_share_the_file_without_losing_a_row(
    store: Store, writers: list[SqliteGroupWriter]
) -> None:
    async def write_groups(writer: SqliteGroupWriter, first: int) -> None:
        for group in range(40):
            start = first + 5 * group
            await writer.write([row(start + i) for i in range(5)], [])

    await asyncio.gather(write_groups(writers[0], 0), write_groups(writers[1], 10_000))
    assert await store.register.count() == 400


async def test_a_writer_waits_for_the_lock_another_worker_holds(
    store: Store, writers: list[SqliteGroupWriter]
) -> None:
    path = store.url.sqlite_path
    assert path is not None
    writer = writers[0]
    held = os.open(path.with_name(path.name + "-writer.lock"), os.O_RDWR | os.O_CREAT)
    fcntl.flock(held, fcntl.LOCK_EX)  # another worker is writing
    waiting = asyncio.ensure_future(writer.write([row(1)], []))
    try:
        await asyncio.to_thread(_until_blocked_on_lock)
        assert not waiting.done()
        assert await store.register.get(row(1).uvci) is None
    finally:
        fcntl.flock(held, fcntl.LOCK_UN)
        os.close(held)
        await asyncio.gather(waiting, return_exceptions=True)
    assert await store.register.get(row(1).uvci) == row(1)


def _until_blocked_on_lock(seconds: float = 30.0) -> None:
    """Return once a thread of this process (the writer's) waits for a file lock (/proc)."""
    pause = threading.Event()
    for _ in range(int(seconds * 100)):
        for task in Path("/proc/self/task").iterdir():
            if "lock_inode_wait" in (task / "wchan").read_text():
                return
        pause.wait(0.01)
    raise AssertionError(f"no thread waited for the writer lock within {seconds} s")


def test_the_statement_names_every_column() -> None:
    from store.sqlite_writer import INSERT_GROUP

    for column in IssuanceRecord.__slots__:
        assert column in INSERT_GROUP
