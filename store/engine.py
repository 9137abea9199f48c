"""The SQLAlchemy engine for a :class:`~store.url.DatabaseUrl`, and database errors as ours.

SQLite runs in WAL mode with ``synchronous=FULL`` (a committed row survives a crash of the
process *and* of the machine), foreign keys on, and a busy timeout so that the workers of
one machine wait for each other's writes instead of failing. Transactions begin with an
explicit ``BEGIN`` (SQLAlchemy's recipe for pysqlite/aiosqlite), so migrations are
transactional. PostgreSQL connections carry connect and command timeouts: a database that
hangs becomes :class:`~store.errors.StoreUnavailable` within seconds, never a request that
waits forever.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any, Final

from sqlalchemy import event
from sqlalchemy.exc import DBAPIError, IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import StaticPool

from store.errors import StoreUnavailable
from store.url import DatabaseUrl

__all__ = [
    "COMMAND_TIMEOUT",
    "CONNECT_TIMEOUT",
    "SQLITE_BUSY_TIMEOUT",
    "create_engine",
    "sqlite_begin",
    "sqlite_connected",
    "unavailable_on_error",
]

CONNECT_TIMEOUT: Final = 3.0
COMMAND_TIMEOUT: Final = 5.0
SQLITE_BUSY_TIMEOUT: Final = 10.0
_PRAGMAS: Final = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=FULL",
    "PRAGMA foreign_keys=ON",
)


def create_engine(url: DatabaseUrl, *, pool_size: int = 5) -> AsyncEngine:
    """An async engine for ``url`` (the SQLite file's folder is created when missing)."""
    if url.backend == "postgresql":
        return create_async_engine(
            url.url,
            pool_size=pool_size,
            max_overflow=pool_size,
            pool_timeout=COMMAND_TIMEOUT,
            connect_args={"timeout": CONNECT_TIMEOUT, "command_timeout": COMMAND_TIMEOUT},
        )
    options: dict[str, Any] = {"connect_args": {"timeout": SQLITE_BUSY_TIMEOUT}}
    if url.in_memory:
        options["poolclass"] = StaticPool
    path = url.sqlite_path
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url.url, **options)
    event.listen(engine.sync_engine, "connect", sqlite_connected)
    event.listen(engine.sync_engine, "begin", sqlite_begin)
    return engine


def sqlite_connected(dbapi_connection: Any, _record: Any) -> None:
    """A new SQLite connection: our pragmas, and no implicit transactions."""
    dbapi_connection.isolation_level = None  # we emit BEGIN ourselves (sqlite_begin)
    cursor = dbapi_connection.cursor()
    for pragma in _PRAGMAS:
        cursor.execute(pragma)
    cursor.close()


def sqlite_begin(connection: Any) -> None:
    """Begin a transaction explicitly (SQLAlchemy's recipe for pysqlite)."""
    connection.exec_driver_sql("BEGIN")


@contextlib.asynccontextmanager
async def unavailable_on_error(operation: str) -> AsyncIterator[None]:
    """Turn a database failure inside the block into :class:`StoreUnavailable`.

    Integrity errors are bugs or races the caller handles, so they pass through.
    """
    try:
        yield
    except IntegrityError:
        raise
    except (SQLAlchemyError, OSError, TimeoutError) as exc:
        cause = exc.orig if isinstance(exc, DBAPIError) else exc
        raise StoreUnavailable.during(operation, cause) from exc
