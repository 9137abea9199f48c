"""RFC 9457 problem details, and the one place where errors become HTTP answers.

Every error response of the service is ``application/problem+json``::

    {"type": "https://dcc-service.example/problems/<code>", "title": "Unprocessable Content",
     "status": 422, "detail": "...", "code": "<code>", "errors": [{field, code, message}]}

``errors`` appears for validation problems only. :func:`problem_for` maps any
:class:`~signing.errors.DccError` (ours or raised by issuer/, verifier/, api.ratelimit) to a
status, headers and body; :func:`install_problem_handlers` wires it, plus FastAPI's
validation errors and Starlette's 404/405, into an app. Unexpected exceptions are turned
into a generic 500 by :class:`api.middleware.ServiceMiddleware`, which uses
:func:`internal_error_response` from here; plain ASGI endpoints (:mod:`api.plain_route`) answer
their DccError with :func:`answer_dcc_error`, as the app's handler does. Messages of
DccError never hold personal data (project rule), so ``detail`` is the error's message; 5xx
answers hide it.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any, Final

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from api.idempotency import IdempotencyKeyInFlight, IdempotencyKeyInvalid, IdempotencyKeyReused
from api.ratelimit.base import Decision
from api.ratelimit.errors import LimiterUnavailable
from api.render_check import RenderCheckFailed
from api.responses import json_response
from signing.errors import (
    ConfigError,
    DccError,
    DecodeError,
    FieldError,
    KeyMaterialError,
    RequestInvalid,
    SignatureError,
    SignerUnavailable,
    SigningError,
)
from store.errors import StoreUnavailable
from store.revocations import RevocationConflict, RevocationInvalid, RevocationNotFound

__all__ = [
    "PROBLEM_MEDIA_TYPE",
    "PROBLEM_TYPE_BASE",
    "AuthenticationFailed",
    "BodyTooLarge",
    "IdentityProviderUnavailable",
    "MalformedBody",
    "NotAcceptable",
    "PermissionDenied",
    "Problem",
    "ProblemFieldError",
    "RateLimited",
    "UnsupportedMediaType",
    "answer_dcc_error",
    "error_response",
    "install_problem_handlers",
    "internal_error_response",
    "problem_body",
    "problem_for",
    "problem_response",
    "status_for",
]

PROBLEM_MEDIA_TYPE: Final = "application/problem+json"
_LOGGER = logging.getLogger("dcc.api")
PROBLEM_TYPE_BASE: Final = "https://dcc-service.example/problems/"


class ProblemFieldError(BaseModel):
    """One broken rule of a request body (``field`` is a dotted path, ``""`` = the body)."""

    field: str
    code: str
    message: str


class Problem(BaseModel):
    """An RFC 9457 problem object with the stable ``code`` of this service."""

    type: str = Field(examples=[PROBLEM_TYPE_BASE + "request_invalid"])
    title: str = Field(examples=["Unprocessable Content"])
    status: int = Field(ge=400, le=599, examples=[422])
    detail: str
    code: str = Field(pattern="^[a-z0-9_]+$", examples=["request_invalid"])
    errors: list[ProblemFieldError] | None = None


# Errors raised by api/ itself (the HTTP edge); their status is decided below like any other.


class AuthenticationFailed(DccError):
    """No API key (``authentication_required``) or an unknown one (``api_key_invalid``)."""

    default_code = "authentication_required"


class PermissionDenied(DccError):
    """The account's role may not use this endpoint (``role_forbidden``)."""

    default_code = "role_forbidden"


class IdentityProviderUnavailable(DccError):
    """The OpenID provider (discovery, keys, token endpoint) did not answer well; retry."""

    default_code = "oidc_unavailable"
    retry_after = 5.0


class BodyTooLarge(DccError):
    """The request body exceeds the endpoint's byte limit."""

    default_code = "body_too_large"


class UnsupportedMediaType(DccError):
    """The request's Content-Type is not one the endpoint reads."""

    default_code = "unsupported_media_type"


class NotAcceptable(DccError):
    """No representation the endpoint produces matches the Accept header."""

    default_code = "not_acceptable"


class MalformedBody(DccError):
    """A body that cannot be parsed at all (broken JSON, broken multipart, bad length)."""

    default_code = "body_malformed"


class RateLimited(DccError):
    """A quota said no; ``decision`` carries the RateLimit headers and Retry-After."""

    default_code = "rate_limited"

    def __init__(self, message: str, *, decision: Decision, code: str | None = None) -> None:
        super().__init__(message, code=code, limit=decision.limit)
        self.decision = decision


# Ordered: the first class an error is an instance of decides its status.
_STATUS_BY_CLASS: Final[tuple[tuple[type[DccError], int], ...]] = (
    (RequestInvalid, 422),
    (DecodeError, 422),
    (SignatureError, 422),
    (AuthenticationFailed, 401),
    (PermissionDenied, 403),
    (NotAcceptable, 406),
    (BodyTooLarge, 413),
    (UnsupportedMediaType, 415),
    (MalformedBody, 400),
    (RateLimited, 429),
    (RevocationNotFound, 404),
    (RevocationConflict, 409),
    (RevocationInvalid, 422),
    (IdempotencyKeyInvalid, 400),
    (IdempotencyKeyInFlight, 409),
    (IdempotencyKeyReused, 422),
    (SignerUnavailable, 503),
    (LimiterUnavailable, 503),
    (StoreUnavailable, 503),
    (IdentityProviderUnavailable, 503),
    (SigningError, 503),
    (RenderCheckFailed, 500),  # a QR image that does not read back: never handed out
    (KeyMaterialError, 500),  # start-up errors: should never reach a request
    (ConfigError, 500),
)
_RFC9110_TITLES: Final = {413: "Content Too Large", 422: "Unprocessable Content"}
"""Titles RFC 9110 renamed (Python 3.11's HTTPStatus still has the RFC 7231 phrases)."""
_HIDDEN_DETAIL: Final = "the service failed to handle this request; it has been logged"


def status_for(error: DccError) -> int:
    """The HTTP status for ``error`` (500 for an error class this table does not know)."""
    for cls, status in _STATUS_BY_CLASS:
        if isinstance(error, cls):
            return status
    return 500


def problem_body(
    status: int, code: str, detail: str, errors: Sequence[FieldError] = (), omitted: int = 0
) -> dict[str, Any]:
    """The problem object as a dict (also used inside batch results); ``errors_omitted``
    says how many field errors were left out (signing.errors.MAX_FIELD_ERRORS)."""
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + code,
        "title": _RFC9110_TITLES.get(status) or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "code": code,
    }
    if errors:
        body["errors"] = [error.to_dict() for error in errors]
    if omitted:
        body["errors_omitted"] = omitted
    return body


def problem_response(
    status: int,
    code: str,
    detail: str,
    *,
    errors: Sequence[FieldError] = (),
    headers: Mapping[str, str] | None = None,
) -> Response:
    """A ``application/problem+json`` response."""
    body = problem_body(status, code, detail, errors)
    return json_response(body, status, headers, media_type=PROBLEM_MEDIA_TYPE)


def problem_for(error: DccError) -> tuple[int, dict[str, Any], dict[str, str]]:
    """(status, problem body, headers) for ``error``: the DccError → HTTP mapping."""
    status = status_for(error)
    headers: dict[str, str] = {}
    hidden = status >= 500 and status != 503  # 503 says what to wait for; 500 hides all
    code = "internal_error" if hidden else error.code
    detail = _HIDDEN_DETAIL if hidden else error.message
    errors: Sequence[FieldError] = error.errors if isinstance(error, RequestInvalid) else ()
    omitted = error.omitted if isinstance(error, RequestInvalid) else 0
    if isinstance(
        error,
        SignerUnavailable | LimiterUnavailable | StoreUnavailable | IdentityProviderUnavailable,
    ):
        headers["Retry-After"] = str(max(1, math.ceil(error.retry_after)))
    elif isinstance(error, RateLimited):
        headers.update(error.decision.headers())
    elif isinstance(error, AuthenticationFailed):
        challenge = 'Bearer realm="dcc-service"'
        if error.code != "authentication_required":
            challenge += ', error="invalid_token"'
        headers["WWW-Authenticate"] = challenge
    return status, problem_body(status, code, detail, errors, omitted), headers


def error_response(error: DccError) -> Response:
    """The problem response for ``error``."""
    status, body, headers = problem_for(error)
    return json_response(body, status, headers, media_type=PROBLEM_MEDIA_TYPE)


def internal_error_response() -> Response:
    """The generic 500 answer for an unexpected exception (no detail leaks)."""
    return problem_response(500, "internal_error", _HIDDEN_DETAIL)


_HTTP_CODES: Final = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    413: "body_too_large",
    415: "unsupported_media_type",
}


def answer_dcc_error(error: DccError, method: str, route: str) -> Response:
    """The problem response for ``error`` raised while serving ``method route``.

    A 500 here means a bug or a start-up error seen late: it is logged, by code only.
    """
    if status_for(error) == 500:
        _LOGGER.error(
            "%s.%s [%s] reached the HTTP layer on %s %s",
            type(error).__module__,
            type(error).__qualname__,
            error.code,
            method,
            route,
            extra={"event": "unexpected_dcc_error"},
        )
    return error_response(error)


async def _on_dcc_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DccError)
    route = getattr(request.scope.get("route"), "path", "unmatched")
    return answer_dcc_error(exc, request.method, route)


async def _on_http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    status = exc.status_code
    code = _HTTP_CODES.get(status, f"http_{status}")
    detail = {404: "no such resource", 405: "method not allowed on this resource"}.get(
        status, HTTPStatus(status).phrase
    )
    return problem_response(status, code, detail, headers=exc.headers)


async def _on_validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = [
        FieldError(
            ".".join(str(part) for part in error.get("loc", ())[1:]),
            str(error.get("type", "invalid")),
            str(error.get("msg", "invalid value")),
        )
        for error in exc.errors()
    ]
    return error_response(RequestInvalid(errors, message="the request is invalid"))


def install_problem_handlers(app: FastAPI) -> None:
    """Answer DccError, validation errors and Starlette's HTTP errors with problem+json."""
    app.add_exception_handler(DccError, _on_dcc_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(HTTPException, _on_http_exception)
