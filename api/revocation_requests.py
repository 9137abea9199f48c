"""The bodies of the operator's revocation requests, read strictly (every error at once).

``{"uvci", "reason"}``; ``{"account_id", "member"?, "issued_from", "issued_until",
"reason"}``; ``{"kid", "reason", "distrust_at"?}``. Times are ISO 8601 with an offset.
``reason`` is one of :data:`store.revocations.REASONS` (``reissued`` is the re-issue's own).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from api.body import json_object
from signing.errors import FieldError, RequestInvalid
from store.revocations import REASONS

__all__ = [
    "MAX_INSTANT",
    "OPERATOR_REASONS",
    "AccountRevocation",
    "CertificateRevocation",
    "KeyRevocation",
    "read_account_revocation",
    "read_certificate_revocation",
    "read_key_revocation",
]

OPERATOR_REASONS: Final = tuple(reason for reason in REASONS if reason != "reissued")
_MAX_TEXT: Final = 80
MAX_INSTANT: Final = 221_845_392_000
"""9000-01-01T00:00:00Z: later instants are refused (they could not be shown back)."""


@dataclass(frozen=True, slots=True)
class CertificateRevocation:
    uvci: str
    reason: str


@dataclass(frozen=True, slots=True)
class AccountRevocation:
    account_id: str
    member: str | None
    issued_from: int
    issued_until: int
    reason: str


@dataclass(frozen=True, slots=True)
class KeyRevocation:
    kid: str
    reason: str
    distrust_at: int | None


class _Reader:
    def __init__(self, body: object, allowed: Collection[str]) -> None:
        self.fields: Mapping[str, object]
        self.fields, self.errors = json_object(body, allowed, what="revocation")

    def text(self, name: str, *, required: bool = True) -> str | None:
        value = self.fields.get(name)
        if value is None:
            if required:
                self.errors.append(FieldError(name, "required", f"{name} is required"))
            return None
        if not isinstance(value, str) or not value:
            self.errors.append(FieldError(name, "type", f"{name} must be a non-empty string"))
            return None
        if len(value) > _MAX_TEXT:
            self.errors.append(FieldError(name, "too_long", f"{name} has at most 80 characters"))
            return None
        return value

    def reason(self) -> str:
        reason = self.text("reason")
        if reason is not None and reason not in OPERATOR_REASONS:
            self.errors.append(
                FieldError(
                    "reason",
                    "reason_invalid",
                    f"reason must be one of {', '.join(OPERATOR_REASONS)}",
                )
            )
        return reason or ""

    def instant(self, name: str, *, required: bool = True) -> int | None:
        text = self.text(name, required=required)
        if text is None:
            return None
        try:
            moment: datetime | None = datetime.fromisoformat(text)
        except ValueError:
            moment = None
        if moment is not None and moment.utcoffset() is not None:
            seconds = int(moment.timestamp())
            if 0 <= seconds <= MAX_INSTANT:
                return seconds
        self.errors.append(
            FieldError(
                name,
                "time_invalid",
                f"{name} must be an ISO 8601 date-time with offset, from 1970 to 9000",
            )
        )
        return None

    def done(self) -> None:
        if self.errors:
            raise RequestInvalid(self.errors, message="the revocation request is invalid")


def read_certificate_revocation(body: object) -> CertificateRevocation:
    reader = _Reader(body, ("uvci", "reason"))
    uvci, reason = reader.text("uvci"), reader.reason()
    reader.done()
    assert uvci is not None
    return CertificateRevocation(uvci, reason)


def read_account_revocation(body: object) -> AccountRevocation:
    reader = _Reader(body, ("account_id", "member", "issued_from", "issued_until", "reason"))
    account_id = reader.text("account_id")
    member = reader.text("member", required=False)
    issued_from, issued_until = reader.instant("issued_from"), reader.instant("issued_until")
    reason = reader.reason()
    if issued_from is not None and issued_until is not None and issued_until <= issued_from:
        reader.errors.append(
            FieldError(
                "issued_until",
                "revocation_window_invalid",
                "issued_until must be after issued_from",
            )
        )
    reader.done()
    assert account_id is not None
    assert issued_from is not None
    assert issued_until is not None
    return AccountRevocation(account_id, member, issued_from, issued_until, reason)


def read_key_revocation(body: object) -> KeyRevocation:
    reader = _Reader(body, ("kid", "reason", "distrust_at"))
    kid = reader.text("kid")
    if kid is not None:
        try:
            valid = len(base64.b64decode(kid, validate=True)) == 8
        except (binascii.Error, ValueError):
            valid = False
        if not valid:
            reader.errors.append(FieldError("kid", "kid_invalid", "kid must be 8 bytes in base64"))
    reason = reader.reason()
    distrust_at = reader.instant("distrust_at", required=False)
    reader.done()
    assert kid is not None
    return KeyRevocation(kid, reason, distrust_at)
