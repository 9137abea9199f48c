"""Versioned schema migrations (Alembic), applied by ``dcc db upgrade``, checked at start-up.

The migrations live in store/migrations/versions, one file per revision; the code needs
:func:`head_revision`. :func:`upgrade` brings a database there (creating the tables of an
empty one), inside one transaction per revision. :func:`require_current` is what a service
runs before it serves: a database on another revision stops it with one clear line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from store.errors import SchemaOutdated

__all__ = ["MIGRATIONS_DIR", "current_revision", "head_revision", "require_current", "upgrade"]

MIGRATIONS_DIR: Final = Path(__file__).resolve().parent / "migrations"


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The revision this code needs."""
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def current_revision(engine: AsyncEngine) -> str | None:
    """The database's revision (None for a database no migration ever ran on)."""
    async with engine.connect() as connection:
        return await connection.run_sync(_current)


def _upgrade(connection: Connection, revision: str) -> None:
    command.upgrade(_config(connection), revision)


async def upgrade(engine: AsyncEngine, revision: str = "head") -> tuple[str | None, str]:
    """Migrate the database to ``revision``; return (revision before, revision after)."""
    before = await current_revision(engine)
    async with engine.begin() as connection:
        await connection.run_sync(_upgrade, revision)
    after = await current_revision(engine)
    assert after is not None
    return before, after


async def require_current(engine: AsyncEngine, shown_url: str) -> str:
    """The revision, when it is the head; else raise :class:`SchemaOutdated`."""
    current = await current_revision(engine)
    head = head_revision()
    if current != head:
        found = "an empty database" if current is None else f"schema revision {current}"
        raise SchemaOutdated(
            f"{shown_url} holds {found}, this version needs revision {head}: "
            "run `dcc db upgrade` (with the same DCC_DATABASE_URL)",
            current=current,
            head=head,
        )
    return current
