"""``DCC_DATABASE_URL``: which database, and how SQLAlchemy reaches it.

Two backends: **PostgreSQL** for deployments (``postgresql://user:password@host:5432/db``,
driven by asyncpg) and **SQLite** embedded (``sqlite:///var/dcc.sqlite3`` relative to the
working directory, ``sqlite:////abs/path.sqlite3``, or ``sqlite://`` in memory for tests
and examples; driven by aiosqlite). Passwords never reach a log or an error message:
:func:`redacted` is the form to show.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from signing.errors import ConfigError

__all__ = ["DEFAULT_DATABASE_URL", "Backend", "DatabaseUrl", "parse_database_url"]

DEFAULT_DATABASE_URL: Final = "sqlite:///var/dcc.sqlite3"
Backend = Literal["postgresql", "sqlite"]
_DRIVERS: Final[dict[str, Backend]] = {
    "postgresql": "postgresql",
    "postgres": "postgresql",
    "postgresql+asyncpg": "postgresql",
    "sqlite": "sqlite",
    "sqlite+aiosqlite": "sqlite",
}


@dataclass(frozen=True, slots=True)
class DatabaseUrl:
    """A parsed database URL: the backend, the async SQLAlchemy URL, and a safe display."""

    backend: Backend
    url: URL
    shown: str = ""

    @property
    def in_memory(self) -> bool:
        """An SQLite database that lives only as long as its engine (tests, examples)."""
        return self.backend == "sqlite" and self.url.database in (None, "", ":memory:")

    @property
    def sqlite_path(self) -> Path | None:
        """The SQLite file, when there is one."""
        if self.backend != "sqlite" or self.in_memory:
            return None
        return Path(str(self.url.database))

    def redacted(self) -> str:
        """The URL as configured, without its password (logs, errors, ``dcc db status``)."""
        return self.shown or self.url.render_as_string(hide_password=True)


def parse_database_url(text: str) -> DatabaseUrl:
    """Parse ``text``; raise :class:`ConfigError` (``database_url_invalid``) when unusable."""
    try:
        url = make_url(text)
    except ArgumentError as exc:
        raise ConfigError(
            "DCC_DATABASE_URL is not a database URL (postgresql://… or sqlite:///…)",
            code="database_url_invalid",
        ) from exc
    backend = _DRIVERS.get(url.drivername)
    if backend is None:
        raise ConfigError(
            f"DCC_DATABASE_URL must use postgresql:// or sqlite://, not {url.drivername}://",
            code="database_url_invalid",
        )
    shown = url.render_as_string(hide_password=True)
    if backend == "postgresql":
        if not url.database:
            raise ConfigError(
                "DCC_DATABASE_URL names no database (postgresql://user@host:port/DATABASE)",
                code="database_url_invalid",
            )
        return DatabaseUrl("postgresql", url.set(drivername="postgresql+asyncpg"), shown)
    return DatabaseUrl("sqlite", url.set(drivername="sqlite+aiosqlite"), shown)
