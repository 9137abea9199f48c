"""Reading request bodies with a byte limit, before anything parses them.

Starlette reads a body whole and without limit; these helpers refuse it first by its
``Content-Length`` (413 before a byte is read) and otherwise count bytes while streaming
(chunked uploads), stopping at the limit. JSON is parsed with orjson (malformed → 400
``json_invalid``, nesting deeper than orjson's 1024 levels included); multipart forms with
Starlette's parser fed by the same bounded stream.

Small JSON objects (the batch wrapper, ``{"hc1": …}``, the names preview) are read by
:func:`json_object`: one shape check and one unknown-key policy for every route
(``body_not_object``; ``unknown_field``, at most :data:`MAX_UNKNOWN_REPORTED` of them).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Collection
from typing import Final

import orjson
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import Request

from api.problems import BodyTooLarge, MalformedBody, UnsupportedMediaType
from hcert.hc1 import MAX_HC1_CHARS
from signing.errors import FieldError, RequestInvalid

__all__ = [
    "JSON_TYPES",
    "MAX_UNKNOWN_REPORTED",
    "FieldErrors",
    "hc1_of",
    "json_object",
    "media_type",
    "read_body",
    "read_form_file",
    "read_hc1",
    "read_json",
]

JSON_TYPES = frozenset({"application/json"})
MAX_UNKNOWN_REPORTED: Final = 5


def media_type(request: Request) -> str:
    """The request's media type without parameters, lower-case (``""`` when absent)."""
    return request.headers.get("content-type", "").partition(";")[0].strip().lower()


def require_media_type(request: Request, allowed: Collection[str]) -> str:
    """The request's media type when it is one of ``allowed``, else 415."""
    kind = media_type(request)
    if kind not in allowed:
        raise UnsupportedMediaType(
            f"send the body as {' or '.join(sorted(allowed))}", allowed=sorted(allowed)
        )
    return kind


def _too_large(limit: int) -> BodyTooLarge:
    return BodyTooLarge(f"the request body is larger than {limit} bytes", limit=limit)


def _check_declared_length(request: Request, limit: int) -> None:
    declared = request.headers.get("content-length")
    if declared is None:
        return
    if not declared.isdigit():
        raise MalformedBody("Content-Length is not a number", code="content_length_invalid")
    if int(declared) > limit:
        raise _too_large(limit)


async def _bounded_stream(request: Request, limit: int) -> AsyncGenerator[bytes, None]:
    """The body's chunks, raising :class:`BodyTooLarge` once more than ``limit`` arrive."""
    _check_declared_length(request, limit)
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > limit:
            raise _too_large(limit)
        if chunk:
            yield chunk


async def read_body(request: Request, limit: int) -> bytes:
    """The whole body, at most ``limit`` bytes (413 beyond)."""
    return b"".join([chunk async for chunk in _bounded_stream(request, limit)])


def parse_json(raw: bytes) -> object:
    """Parse JSON bytes (400 ``json_invalid`` when they are not JSON)."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise MalformedBody("the body is not valid JSON", code="json_invalid") from exc


async def read_json(request: Request, limit: int) -> object:
    """A JSON body: ``application/json`` (415 otherwise), at most ``limit`` bytes."""
    require_media_type(request, JSON_TYPES)
    return parse_json(await read_body(request, limit))


async def read_form_file(request: Request, field: str, limit: int) -> bytes:
    """The bytes of the file uploaded in multipart form field ``field`` (whole body ≤ limit)."""
    parser = MultiPartParser(
        request.headers, _bounded_stream(request, limit), max_files=1, max_fields=4
    )
    try:
        form = await parser.parse()
    except MultiPartException as exc:
        raise MalformedBody(
            "the multipart body cannot be parsed", code="multipart_invalid"
        ) from exc
    try:
        upload = form.get(field)
        if not isinstance(upload, UploadFile):
            raise RequestInvalid(
                [FieldError(field, "file_missing", f"upload the image as file field {field!r}")],
                message=f"the multipart body has no file field {field!r}",
            )
        return await upload.read()
    finally:
        await form.close()


class FieldErrors(list[FieldError]):
    """Field errors, and how many more were left out (``RequestInvalid(omitted=...)``)."""

    omitted: int = 0


def json_object(
    body: object, allowed: Collection[str], *, what: str
) -> tuple[dict[str, object], FieldErrors]:
    """``body`` as an object, and an ``unknown_field`` error per key not in ``allowed`` (at
    most :data:`MAX_UNKNOWN_REPORTED`; the others are counted in ``omitted``).

    Raises :class:`RequestInvalid` (``body_not_object``) for anything but an object; the
    caller adds its own field errors to the list and raises them together.
    """
    if not isinstance(body, dict):
        raise RequestInvalid(
            [FieldError("", "body_not_object", "the body must be a JSON object")],
            message=f"the {what} request is invalid",
        )
    errors = FieldErrors()
    for key in body:
        if key not in allowed:
            if len(errors) < MAX_UNKNOWN_REPORTED:
                errors.append(FieldError.unknown(key))
            else:
                errors.omitted += 1
    return body, errors


def hc1_of(body: object, *, what: str) -> str:
    """The HC1 text of a ``{"hc1": "HC1:…"}`` body (422: ``hc1_missing``, ``hc1_too_long``)."""
    fields, errors = json_object(body, ("hc1",), what=what)
    hc1 = fields.get("hc1")
    if not isinstance(hc1, str):
        errors.append(FieldError("hc1", "hc1_missing", "hc1 must be a string"))
    elif len(hc1) > MAX_HC1_CHARS:
        errors.append(
            FieldError("hc1", "hc1_too_long", f"hc1 is longer than {MAX_HC1_CHARS} characters")
        )
    if errors:
        raise RequestInvalid(
            errors, message=f"the {what} request is invalid", omitted=errors.omitted
        )
    assert isinstance(hc1, str)
    return hc1


async def read_hc1(request: Request, limit: int, *, what: str) -> str:
    """The HC1 text of a JSON ``{"hc1": …}`` body of at most ``limit`` bytes."""
    return hc1_of(await read_json(request, limit), what=what)
