"""Durable state: accounts and API keys, the issuance register, idempotency keys.

One small interface, two real backends behind SQLAlchemy Core: PostgreSQL (asyncpg) for
deployments, SQLite (aiosqlite) as the embedded default, chosen by ``DCC_DATABASE_URL``
(:mod:`store.url`). The schema is versioned with Alembic (:mod:`store.migrate`): ``dcc db
upgrade`` applies it, and a service on another revision refuses to start. Redis holds only
what may be lost (quotas); what must survive lives here.

:class:`Store` holds the engine and the parts: :attr:`Store.accounts`,
:attr:`Store.register` (reads; the CLI's writes), :attr:`Store.idempotency`,
:attr:`Store.revocations` (revoking certificates and keys, the list's entries), and
:attr:`Store.commits`, the group commit every server write goes through.
"""

from __future__ import annotations

import asyncio
from typing import Final

from sqlalchemy import text

from store.accounts import Accounts
from store.engine import COMMAND_TIMEOUT, create_engine, unavailable_on_error
from store.errors import SchemaOutdated, StoreUnavailable
from store.group_commit import CommitObserver, EngineGroupWriter, GroupCommit, GroupWriter
from store.idempotency import Idempotency
from store.members import Members
from store.migrate import require_current, upgrade
from store.postgres_writer import PostgresGroupWriter
from store.register import Register
from store.revocations import Revocations
from store.sessions import Sessions
from store.sqlite_writer import SqliteGroupWriter
from store.url import DEFAULT_DATABASE_URL, DatabaseUrl, parse_database_url

__all__ = [
    "DEFAULT_DATABASE_URL",
    "SchemaOutdated",
    "Store",
    "StoreUnavailable",
    "parse_database_url",
]

_HEALTH_TIMEOUT: Final = 2.0
_POSTGRES_WRITERS: Final = 1  # measured (bench 6): on 2 cores bigger groups beat concurrent commits


class Store:
    """The database of one deployment, as one process uses it."""

    def __init__(
        self, url: DatabaseUrl, *, pool_size: int = 5, observer: CommitObserver | None = None
    ) -> None:
        self.url = url
        self.engine = create_engine(url, pool_size=pool_size)
        self.accounts = Accounts(self.engine)
        self.register = Register(self.engine)
        self.idempotency = Idempotency(self.engine)
        self.members = Members(self.engine)
        self.sessions = Sessions(self.engine)
        self.revocations = Revocations(self.engine)
        writers = 1 if url.backend == "sqlite" else _POSTGRES_WRITERS
        self.commits = GroupCommit(self.group_writer(), max_writers=writers, observer=observer)

    def group_writer(self) -> GroupWriter:
        """A new writer of group commits for this database (the store's own is in
        :attr:`commits`)."""
        if self.url.backend == "postgresql":
            return PostgresGroupWriter(self.engine)
        path = self.url.sqlite_path
        return SqliteGroupWriter(path) if path is not None else EngineGroupWriter(self.engine)

    @classmethod
    def open(cls, url: str, **options: object) -> Store:
        """A store for ``url`` (no I/O yet: connections open on first use)."""
        return cls(parse_database_url(url), **options)  # type: ignore[arg-type]

    @property
    def shown_url(self) -> str:
        """The URL without its password."""
        return self.url.redacted()

    async def upgrade(self) -> tuple[str | None, str]:
        """Migrate to the code's schema revision; return (before, after)."""
        async with unavailable_on_error("schema upgrade"):
            return await upgrade(self.engine)

    async def check_schema(self) -> str:
        """The schema revision when it is the code's; raise SchemaOutdated otherwise."""
        async with unavailable_on_error("schema check"):
            return await require_current(self.engine, self.shown_url)

    async def healthy(self) -> bool:
        """Whether the database answers a trivial query within two seconds."""
        try:
            async with asyncio.timeout(_HEALTH_TIMEOUT), self.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except (StoreUnavailable, OSError, TimeoutError, Exception):
            return False
        return True

    async def close(self) -> None:
        """Finish pending writes and close every connection."""
        await self.commits.close()
        await self.engine.dispose()


assert COMMAND_TIMEOUT > 0
