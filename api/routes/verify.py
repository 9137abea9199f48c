"""``POST /v1/verify``: an HC1 string (JSON ``{"hc1": …}``) or a QR image → the report.

Three bodies are accepted: ``application/json`` ``{"hc1": "HC1:…"}``, ``multipart/form-data``
with the file field ``image``, or the raw image as ``image/png`` / ``image/jpeg``. No API
key; the quota is per client address (socket peer, or trusted-proxy hop: api.proxies). A
certificate that fails a check is still a successful verification: 200 with ``valid:
false``; a body or image that cannot be read is a problem (400/413/415/422). Reading an
image (ms of CPU) runs in a worker thread. The ``revocation`` check uses the service's own
revocation list (cached, :mod:`api.revocation_list`) and the imported ones of
``DCC_REVOCATION_LISTS``.
"""

from __future__ import annotations

from functools import partial
from typing import Final

from fastapi import APIRouter, Request
from starlette.responses import Response

import verifier
from api.body import hc1_of, parse_json, read_body, read_form_file, require_media_type
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
from api.verify_options import OPENAPI_PARAMETERS, split_options, verify_options
from hcert.hc1 import MAX_HC1_CHARS

__all__ = ["MAX_HC1_CHARS", "router"]

_IMAGE_TYPES: Final = frozenset({"image/png", "image/jpeg"})
_ACCEPTED: Final = frozenset({"application/json", "multipart/form-data", *_IMAGE_TYPES})
_MULTIPART_OVERHEAD: Final = 16 * 1024

router = APIRouter(tags=["verification"])


@router.post(
    "/v1/verify",
    summary="Verify an HC1 string or a QR image",
    response_class=Response,
    responses={
        200: {"model": VerificationReportModel, "description": "the verification report"},
        **problems(400, 413, 415, 422, 429, 500, 503),
    },
    openapi_extra={
        **json_body(
            VerifyRequestInput,
            **{
                "multipart/form-data": multipart_image(),
                "image/png": binary_body(),
                "image/jpeg": binary_body(),
            },
        ),
        "parameters": OPENAPI_PARAMETERS,
    },
)
async def verify_certificate(request: Request, resources: ResourcesDep) -> Response:
    """Verify against this service's own keys and the imported trust lists, now or at ``at``;
    with ``country``, against that destination's rules (api/verify_options.py)."""
    decision = await charge_verification(resources, request)
    settings = resources.settings
    kind = require_media_type(request, _ACCEPTED)
    data: str | bytes
    options: dict[str, object] = {}
    if kind == "application/json":
        body, options = split_options(parse_json(await read_body(request, settings.max_body_bytes)))
        data = hc1_of(body, what="verify")
    elif kind == "multipart/form-data":
        limit = settings.max_image_bytes + _MULTIPART_OVERHEAD
        data = await read_form_file(request, "image", limit)
    else:
        data = await read_body(request, settings.max_image_bytes)
    destination, at = verify_options(request, options, resources.rules)
    revocation = (await resources.revocation_list.current()).lookup
    check = partial(
        verifier.verify,
        data,
        trust=resources.verification_trust(),
        now=at or resources.clock(),
        devices=resources.devices,
        destination=destination,
        revocation=revocation,
    )
    if isinstance(data, str):
        report = check()
    else:
        async with resources.image_decodes:  # api/work_limits.py: decodes at once
            report = await resources.in_render_thread(check)
    source = "hc1" if isinstance(data, str) else "image"
    resources.metrics.verifications.labels(source, report.verdict).inc()
    return json_response(report.to_dict(), 200, {**decision.headers(), **NO_STORE})
