"""``Idempotency-Key`` on the issuing routes (IETF draft "The Idempotency-Key HTTP Header
Field"): a retry answers what the first attempt answered, and issues nothing new.

The key is the header's value: a Structured Field string (``"8e03…"``) or a bare token,
1 to 255 printable ASCII characters (``idempotency_key_invalid``, 400, otherwise). The
request's fingerprint is the SHA-256 of what makes it this request: method, path, the
product chosen by ``Accept`` and the body's bytes. With the same key and fingerprint within
24 hours, the stored response is answered again, byte for byte, with no new certificate,
no quota spent and no new register row; the same key on a different request is 422
``idempotency_key_reused``; a retry while the first attempt still runs is 409
``idempotency_key_in_flight`` (retry later). The decisions live in
:mod:`store.idempotency`; this module speaks HTTP.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Final

from starlette.requests import Request
from starlette.responses import Response

from signing.errors import DccError
from store.idempotency import StoredResponse

__all__ = [
    "HEADER",
    "REPLAYED_HEADERS",
    "IdempotencyKeyInFlight",
    "IdempotencyKeyInvalid",
    "IdempotencyKeyReused",
    "fingerprint",
    "idempotency_key",
    "replay",
    "stored",
]

HEADER: Final = "idempotency-key"
REPLAYED_HEADERS: Final = ("content-disposition", "dcc-uvci")
"""Headers of a response that belong to it and are stored with it (RateLimit headers are
the quota's state at the time, and are not replayed)."""
_KEY: Final = re.compile(r"[\x21-\x7e]{1,255}")


class IdempotencyKeyInvalid(DccError):
    """An Idempotency-Key header that is not a key (400)."""

    default_code = "idempotency_key_invalid"


class IdempotencyKeyInFlight(DccError):
    """A request with this key is being served now (409): retry once it finished."""

    default_code = "idempotency_key_in_flight"


class IdempotencyKeyReused(DccError):
    """This key was used for a different request (422): a new request needs a new key."""

    default_code = "idempotency_key_reused"


def idempotency_key(request: Request) -> str | None:
    """The request's idempotency key, None without the header (400 when malformed)."""
    raw = request.headers.get(HEADER)
    if raw is None:
        return None
    value = raw.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = value[1:-1]
    if not _KEY.fullmatch(value):
        raise IdempotencyKeyInvalid("Idempotency-Key must be 1 to 255 printable ASCII characters")
    return value


def fingerprint(method: str, path: str, product: str, body: bytes) -> str:
    """The SHA-256 (hex) of method, path, chosen product and body."""
    digest = hashlib.sha256()
    for part in (method, path, product):
        digest.update(part.encode("ascii", "replace") + b"\n")
    digest.update(body)
    return digest.hexdigest()


def stored(status: int, media_type: str, headers: Mapping[str, str], body: bytes) -> StoredResponse:
    """What to keep of a response for its replays."""
    kept = {name: value for name, value in headers.items() if name.lower() in REPLAYED_HEADERS}
    return StoredResponse(status, media_type, kept, body)


def replay(response: StoredResponse, extra: Mapping[str, str]) -> Response:
    """The stored response again (``extra`` headers added, e.g. Cache-Control)."""
    headers = {**response.headers, **extra, "Idempotent-Replayed": "true"}
    return Response(response.body, response.status, headers, media_type=response.media_type)
