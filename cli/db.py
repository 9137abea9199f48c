"""``dcc db upgrade | status``: the database's schema (``DCC_DATABASE_URL``).

``upgrade`` applies the migrations the code carries (an empty database gets every table);
``status`` prints the database, its revision and the code's. A service refuses to start on
a database whose revision is not the code's, so run ``upgrade`` after installing a new
version (and once on a fresh machine: ``make run`` does).
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from api.settings import Settings
from store import Store
from store.migrate import current_revision, head_revision

__all__ = ["register", "with_store"]

T = TypeVar("T")


def with_store(url: str, work: Callable[[Store], Awaitable[T]], *, check: bool = True) -> T:
    """Run ``work`` on the store at ``url`` (first checked to be at the code's schema)."""
    store = Store.open(url)

    async def run() -> T:
        try:
            if check:
                await store.check_schema()
            return await work(store)
        finally:
            await store.close()

    return asyncio.run(run())


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    db = subparsers.add_parser("db", help="the database schema (DCC_DATABASE_URL)")
    actions = db.add_subparsers(title="actions", required=True, metavar="ACTION")
    actions.add_parser("upgrade", help="apply the schema migrations").set_defaults(
        handler=run_upgrade
    )
    actions.add_parser("status", help="print the database and its schema revision").set_defaults(
        handler=run_status
    )


def run_upgrade(args: argparse.Namespace) -> int:
    url = Settings.from_env().database_url
    shown, before, after = with_store(url, _upgrade, check=False)
    if before == after:
        print(f"{shown}: schema at revision {after} (up to date)")
    else:
        print(f"{shown}: schema upgraded from {before or 'empty'} to revision {after}")
    return 0


async def _upgrade(store: Store) -> tuple[str, str | None, str]:
    before, after = await store.upgrade()
    return store.shown_url, before, after


async def _status(store: Store) -> tuple[str, str | None]:
    return store.shown_url, await current_revision(store.engine)


def run_status(args: argparse.Namespace) -> int:
    url = Settings.from_env().database_url
    shown, current = with_store(url, _status, check=False)
    head = head_revision()
    print(f"{shown}: schema revision {current or 'none (empty)'}, code needs {head}")
    print("up to date" if current == head else "run `dcc db upgrade`")
    return 0 if current == head else 1
