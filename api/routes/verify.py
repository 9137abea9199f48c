"""``POST /v1/verify``: an HC1 string (JSON ``{"hc1": …}``) or a QR image → the report.

Three bodies are accepted: ``application/json`` ``{"hc1": "HC1:…"}``, ``multipart/form-data``
with the file field ``image``, or the raw image as ``image/png`` / ``image/jpeg``. No API
key; the quota is per client address (socket peer). A certificate that fails a check is
still a successful verification: 200 with ``valid: false``; a body or image that cannot be
read is a problem (400/413/415/422). Reading an image (ms of CPU) runs in a worker thread.
"""

from __future__ import annotations

from functools import partial
from typing import Final

from fastapi import APIRouter, Request
from starlette.responses import Response

import verifier
from api.body import parse_json, read_body, read_form_file, require_media_type
from api.deps import ResourcesDep, charge_verification
from api.responses import NO_STORE, json_response
from api.routes.schemas import (
    VerificationReportModel,
    VerifyRequestInput,
    binary_body,
    json_body,
    multipart_image,
    problems,
)
from issuer.errors import FieldError, RequestInvalid
from issuer.hc1 import MAX_HC1_CHARS

__all__ = ["MAX_HC1_CHARS", "router"]

_IMAGE_TYPES: Final = frozenset({"image/png", "image/jpeg"})
_ACCEPTED: Final = frozenset({"application/json", "multipart/form-data", *_IMAGE_TYPES})
_MULTIPART_OVERHEAD: Final = 16 * 1024

router = APIRouter(tags=["verification"])


def _hc1_from(body: object) -> str:
    """The ``hc1`` string of a verify body (422 for any other shape)."""
    if not isinstance(body, dict):
        raise RequestInvalid(
            [FieldError("", "body_not_object", "the body must be an object")],
            message="the verify request is invalid",
        )
    errors = [
        FieldError(str(key), "field_unknown", "unknown field") for key in body if key != "hc1"
    ][:5]
    hc1 = body.get("hc1")
    if not isinstance(hc1, str):
        errors.append(FieldError("hc1", "hc1_missing", "hc1 must be a string"))
    elif len(hc1) > MAX_HC1_CHARS:
        errors.append(
            FieldError("hc1", "hc1_too_long", f"hc1 is longer than {MAX_HC1_CHARS} characters")
        )
    if errors:
        raise RequestInvalid(errors, message="the verify request is invalid")
    assert isinstance(hc1, str)
    return hc1


@router.post(
    "/v1/verify",
    summary="Verify an HC1 string or a QR image",
    response_class=Response,
    responses={
        200: {"model": VerificationReportModel, "description": "the verification report"},
        **problems(400, 413, 415, 422, 429, 500, 503),
    },
    openapi_extra=json_body(
        VerifyRequestInput,
        **{
            "multipart/form-data": multipart_image(),
            "image/png": binary_body(),
            "image/jpeg": binary_body(),
        },
    ),
)
async def verify_certificate(request: Request, resources: ResourcesDep) -> Response:
    """Verify against this service's trust list at the current time."""
    decision = await charge_verification(resources, request)
    settings = resources.settings
    kind = require_media_type(request, _ACCEPTED)
    data: str | bytes
    if kind == "application/json":
        data = _hc1_from(parse_json(await read_body(request, settings.max_body_bytes)))
    elif kind == "multipart/form-data":
        limit = settings.max_image_bytes + _MULTIPART_OVERHEAD
        data = await read_form_file(request, "image", limit)
    else:
        data = await read_body(request, settings.max_image_bytes)
    check = partial(
        verifier.verify,
        data,
        trust=resources.trust,
        now=resources.clock(),
        devices=resources.runtime.issuer.devices,
    )
    if isinstance(data, str):
        report = check()
    else:
        report = await resources.in_render_thread(check)
    source = "hc1" if isinstance(data, str) else "image"
    resources.metrics.verifications.labels(source, "valid" if report.valid else "invalid").inc()
    return json_response(report.to_dict(), 200, {**decision.headers(), **NO_STORE})
