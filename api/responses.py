"""JSON answers of the routes: orjson-encoded bytes with their media type.

Handlers build their JSON as dicts (``IssuedCertificate.to_response()``,
``VerificationReport.to_dict()``) and answer with :func:`json_response`, which skips
FastAPI's encoder; problem answers (:mod:`api.problems`) go through it too, with the
``application/problem+json`` media type. :data:`NO_STORE` is the header of every answer
that holds a certificate or a personal detail.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

import orjson
from starlette.responses import Response

__all__ = ["JSON_MEDIA_TYPE", "NO_STORE", "json_response"]

JSON_MEDIA_TYPE: Final = "application/json"
NO_STORE: Final[Mapping[str, str]] = MappingProxyType({"Cache-Control": "no-store"})


def json_response(
    content: object,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
    *,
    media_type: str = JSON_MEDIA_TYPE,
) -> Response:
    """``content`` encoded by orjson as a response with ``status`` and ``headers``."""
    return Response(orjson.dumps(content), status, headers, media_type=media_type)
