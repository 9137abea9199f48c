"""Setting up a database for a test: migrate it, add accounts (from sync or async code).

The store's API is async; these helpers run it on a loop of their own in a worker thread,
so that a synchronous test, an async fixture and a test with a running loop can all use
them the same way.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

from api.accounts import rate_limit_of
from api.ratelimit.rate import Rate
from store import Store
from store.accounts import NewKey

__all__ = ["add_account", "migrated_sqlite", "run_on_store", "upgrade"]

T = TypeVar("T")


def run_on_store(url: str, work: Callable[[Store], Awaitable[T]]) -> T:
    """``work(store)`` on a fresh store of ``url``, on a loop of its own; its result."""
    outcome: list[T] = []
    failure: list[BaseException] = []

    async def main() -> None:
        store = Store.open(url)
        try:
            outcome.append(await work(store))
        finally:
            await store.close()

    def thread() -> None:
        try:
            asyncio.run(main())
        except BaseException as error:  # handed to the caller's thread
            failure.append(error)

    worker = threading.Thread(target=thread)
    worker.start()
    worker.join()
    if failure:
        raise failure[0]
    return outcome[0]


def upgrade(url: str) -> str:
    """Bring the database at ``url`` to the code's schema; return ``url``."""
    run_on_store(url, lambda store: store.upgrade())
    return url


def migrated_sqlite(directory: Path) -> str:
    """A new SQLite database in ``directory``, at the code's schema: its URL."""
    return upgrade(f"sqlite:///{directory / 'dcc.sqlite3'}")


def add_account(url: str, *, name: str, role: str, rate: Rate | None = None) -> NewKey:
    """Create an account (and its key) in the database at ``url``."""
    limit = rate_limit_of(rate)
    now = int(time.time())
    return run_on_store(
        url, lambda store: store.accounts.add(name=name, role=role, rate=limit, now=now)
    )
