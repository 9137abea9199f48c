"""Errors raised by ``issuer``: the project hierarchy plus the issue-request field errors.

Issuer code imports every error from here. The classes of :mod:`signing.errors` are
re-exported unchanged; :class:`RequestInvalid` adds the list of :class:`FieldError` that
an issue request broke, so the API can answer one 422 naming every problem at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from signing.errors import ConfigError as ConfigError
from signing.errors import DccError as DccError
from signing.errors import DecodeError as DecodeError
from signing.errors import KeyMaterialError as KeyMaterialError
from signing.errors import SignatureError as SignatureError
from signing.errors import SignerUnavailable as SignerUnavailable
from signing.errors import SigningError as SigningError

__all__ = [
    "ConfigError",
    "DccError",
    "DecodeError",
    "FieldError",
    "KeyMaterialError",
    "RequestInvalid",
    "SignatureError",
    "SignerUnavailable",
    "SigningError",
]

_SUMMARY_LIMIT = 5


@dataclass(frozen=True, slots=True)
class FieldError:
    """One broken rule in an issue request.

    ``field`` is the dotted JSON path (``"person.date_of_birth"``, ``"test.device"``; ``""``
    for the whole body), ``code`` a stable snake_case identifier, ``message`` an English
    explanation that never repeats the submitted value.
    """

    field: str
    code: str
    message: str

    def to_dict(self) -> dict[str, str]:
        """The JSON form used in problem responses: ``{"field", "code", "message"}``."""
        return {"field": self.field, "code": self.code, "message": self.message}


class RequestInvalid(DccError):
    """An issue request that breaks one or more rules; ``errors`` lists all of them."""

    default_code = "request_invalid"

    def __init__(self, errors: Sequence[FieldError], message: str | None = None) -> None:
        self.errors: tuple[FieldError, ...] = tuple(errors)
        super().__init__(message or _summary(self.errors), error_count=len(self.errors))


def _summary(errors: tuple[FieldError, ...]) -> str:
    """``"issue request invalid (2 errors): person.date_of_birth: dob_format; ..."``."""
    if not errors:
        return "issue request invalid"
    parts = [f"{e.field or '(body)'}: {e.code}" for e in errors[:_SUMMARY_LIMIT]]
    if len(errors) > _SUMMARY_LIMIT:
        parts.append(f"and {len(errors) - _SUMMARY_LIMIT} more")
    noun = "error" if len(errors) == 1 else "errors"
    return f"issue request invalid ({len(errors)} {noun}): " + "; ".join(parts)
