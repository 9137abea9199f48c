"""Errors of the store, in the project's one hierarchy (:mod:`signing.errors`).

:class:`StoreUnavailable` means the database did not answer or refused a write: the API
answers 503 with ``Retry-After`` and never hands out a certificate whose register row is
not durable. :class:`SchemaOutdated` stops a service whose database schema is older (or
newer) than the code's: run ``dcc db upgrade``. A malformed ``DCC_DATABASE_URL`` is a
:class:`~signing.errors.ConfigError` (``database_url_invalid``).
"""

from __future__ import annotations

from typing import Any

from signing.errors import ConfigError, DccError

__all__ = ["SchemaOutdated", "StoreUnavailable"]


class StoreUnavailable(DccError):
    """The database cannot be reached or refused the operation; retry after ``retry_after``."""

    default_code = "store_unavailable"

    def __init__(self, message: str, *, retry_after: float = 2.0, **context: Any) -> None:
        super().__init__(message, retry_after=retry_after, **context)
        self.retry_after = retry_after

    @classmethod
    def during(cls, operation: str, cause: object) -> StoreUnavailable:
        """The error for ``operation`` failing with the driver's ``cause`` (its type named,
        never its message: it may quote the statement's values)."""
        return cls(
            f"the database is unavailable ({operation}: {type(cause).__name__})",
            operation=operation,
        )


class SchemaOutdated(ConfigError):
    """The database schema is not the revision this code needs."""

    default_code = "schema_outdated"
