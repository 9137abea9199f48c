"""The one error hierarchy of dcc-service.

It lives in ``signing`` because that package depends on nothing else of ours; every other
package raises subclasses of :class:`DccError`, and ``api/`` translates them to HTTP in one
place.

::

    DccError                      base: a stable ``code``, a message, and context
    ├── DecodeError               HC1/CBOR/COSE input that cannot be decoded (``stage``)
    ├── SignatureError            a COSE signature that does not verify, or a wrong algorithm
    ├── SigningError              the signer failed to produce a signature
    │   └── SignerUnavailable     every signer slot stayed busy past the timeout
    ├── KeyMaterialError          keys or certificates missing, mismatched, expired (keys/)
    ├── ConfigError               settings that cannot work (api/, issuer/)
    └── RequestInvalid            a request that breaks the rules: every FieldError at once
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

__all__ = [
    "MAX_FIELD_ERRORS",
    "MAX_KEY_ECHO",
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


class DccError(Exception):
    """Base of every error this project raises on purpose.

    ``code`` is a stable machine-readable identifier (part of the public contract);
    ``context`` holds whatever a caller needs to act on the error. Context must never
    hold personal data (names, dates of birth).
    """

    default_code: ClassVar[str] = "dcc_error"

    def __init__(self, message: str, *, code: str | None = None, **context: Any) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.context: dict[str, object] = context

    def __str__(self) -> str:
        return self.message


class DecodeError(DccError):
    """Input that cannot be decoded; ``stage`` names the layer that refused it.

    Stages: ``prefix``, ``base45``, ``zlib``, ``cbor``, ``cose``, ``claims``, ``image``.
    """

    default_code = "decode_error"

    def __init__(self, stage: str, message: str, *, code: str | None = None, **context: Any):
        super().__init__(message, code=code or f"{stage}_invalid", **context)
        self.stage = stage


class SignatureError(DccError):
    """A signature that does not verify, or an algorithm that does not fit the key."""

    default_code = "signature_invalid"


class SigningError(DccError):
    """The signer could not produce a signature."""

    default_code = "signing_failed"


class SignerUnavailable(SigningError):
    """Every signer slot stayed busy past the acquire timeout; retry later."""

    default_code = "signer_unavailable"

    def __init__(self, message: str, *, retry_after: float, **context: Any) -> None:
        super().__init__(message, retry_after=retry_after, **context)
        self.retry_after = retry_after


class KeyMaterialError(DccError):
    """Keys or certificates that are missing, unreadable, mismatched or expired."""

    default_code = "key_material_invalid"


class ConfigError(DccError):
    """Settings that cannot work."""

    default_code = "config_invalid"


_SUMMARY_LIMIT = 5
MAX_KEY_ECHO = 64
MAX_FIELD_ERRORS = 20
"""Field errors one request (or batch item) reports; the rest are counted (``omitted``).
An issue request has 13 known fields (2 sections, 11 values), so 20 names every real
mistake, while a body of 300,000 unknown keys no longer answers 300,000 errors."""
_UNKNOWN = "is not a field of this object"


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

    @classmethod
    def unknown(cls, key: object, prefix: str = "") -> FieldError:
        """``unknown_field`` for ``key`` of the object at ``prefix`` (every request body).

        The key is echoed in the path only when it is short printable ASCII (at most
        :data:`MAX_KEY_ECHO` characters), else as ``?``: a client's key may be anything.
        """
        text = key if isinstance(key, str) else ""
        if not (0 < len(text) <= MAX_KEY_ECHO and text.isascii() and text.isprintable()):
            text = "?"
        return cls(f"{prefix}.{text}" if prefix else text, "unknown_field", _UNKNOWN)


class RequestInvalid(DccError):
    """An issue request that breaks one or more rules; ``errors`` lists all of them."""

    default_code = "request_invalid"

    def __init__(
        self, errors: Sequence[FieldError], message: str | None = None, *, omitted: int = 0
    ) -> None:
        # At most MAX_FIELD_ERRORS are kept; ``omitted`` counts the others (also those the
        # caller already left out, passed in as ``omitted``).
        self.errors: tuple[FieldError, ...] = tuple(errors[:MAX_FIELD_ERRORS])
        self.omitted: int = omitted + max(0, len(errors) - MAX_FIELD_ERRORS)
        total = len(self.errors) + self.omitted
        super().__init__(message or _summary(self.errors, total), error_count=total)


def _summary(errors: tuple[FieldError, ...], total: int) -> str:
    """``"issue request invalid (2 errors): person.date_of_birth: dob_format; ..."``."""
    if not errors:
        return "issue request invalid"
    parts = [f"{e.field or '(body)'}: {e.code}" for e in errors[:_SUMMARY_LIMIT]]
    if total > _SUMMARY_LIMIT:
        parts.append(f"and {total - _SUMMARY_LIMIT} more")
    noun = "error" if total == 1 else "errors"
    return f"issue request invalid ({total} {noun}): " + "; ".join(parts)
