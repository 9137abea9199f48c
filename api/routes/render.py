"""``POST /v1/certificates/render``: the QR code or the printable PDF of an issued certificate.

The pharmacist's page issues once (JSON) and then asks for the QR image and the PDF of
*that* certificate, so what the page shows and prints is the certificate whose UVCI it
shows; nothing is issued twice. Only a certificate that verifies as valid against this
service's own trust store is rendered: the service never prints a PDF under its issuer's
name for text it did not sign. Verification, QR matrix and PDF are CPU work (milliseconds
to a tenth of a second) for the bounded render threads.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Final

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

import verifier
from api.body import read_hc1
from api.deps import AccountDep, charge_account, resources_of
from api.negotiation import negotiate
from api.render_check import CheckedRenderer
from api.responses import NO_STORE
from api.routes.schemas import inline_json_body, problems, qr_or_pdf_content
from hcert.hc1 import MAX_HC1_CHARS
from hcert.valuesets import DeviceRegistry
from issuer.issuer import IssuedCertificate
from issuer.render import MEDIA_TYPES, PAGE_PNG_SCALE, RenderFormat, pdf_disposition
from signing.errors import FieldError, RequestInvalid

__all__ = ["RENDER_FORMATS", "RenderInput", "issued_from_hc1", "router"]

RENDER_FORMATS: Final[tuple[tuple[str, RenderFormat], ...]] = tuple(
    (media, kind) for kind, media in MEDIA_TYPES.items()
)
"""PNG first: the default without an ``Accept`` header."""

router = APIRouter(tags=["pages"])


class RenderInput(BaseModel):
    """Body of ``POST /v1/certificates/render``: the HC1 text of an issued certificate."""

    model_config = ConfigDict(extra="forbid")
    hc1: str = Field(pattern="^HC1:", max_length=MAX_HC1_CHARS)


def issued_from_hc1(
    hc1: str, *, trust: verifier.TrustStore, now: datetime, devices: DeviceRegistry | None
) -> IssuedCertificate:
    """The certificate ``hc1`` holds, when it verifies as valid against ``trust`` at ``now``.

    Raises :class:`RequestInvalid` on field ``hc1`` (the report's error code) otherwise.
    """
    report = verifier.verify(hc1, trust=trust, now=now, devices=devices)
    payload = report.payload
    if not report.valid or payload is None:
        error = report.error
        code = error.code if error is not None else "certificate_invalid"
        message = error.message if error is not None else "the certificate is not valid"
        raise RequestInvalid(
            [FieldError("hc1", code, f"only a valid certificate of this service: {message}")],
            message="only a valid certificate signed by this service can be rendered",
        )
    entry = payload.certificate["t"][0]
    return IssuedCertificate(
        uvci=str(entry["ci"]),
        hc1=payload.hc1,
        kid=payload.kid,
        test_type=str(entry["tt"]),
        issued_at=payload.issued_at,
        expires_at=payload.expires_at,
        certificate=payload.certificate,
        signature=payload.signature,
    )


def _render_hc1(
    hc1: str,
    kind: RenderFormat,
    *,
    trust: verifier.TrustStore,
    now: datetime,
    timezone: str,
    devices: DeviceRegistry,
    renderer: CheckedRenderer,
) -> tuple[IssuedCertificate, bytes]:
    issued = issued_from_hc1(hc1, trust=trust, now=now, devices=devices)
    content = renderer.render(
        issued, kind, timezone=timezone, devices=devices, scale=PAGE_PNG_SCALE
    )
    return issued, content


@router.post(
    "/v1/certificates/render",
    summary="Render an issued certificate as QR image or printable PDF",
    response_class=Response,
    responses={
        200: {"description": "the QR code or the PDF", "content": qr_or_pdf_content()},
        **problems(400, 401, 406, 413, 415, 422, 429, 500, 503),
    },
    openapi_extra=inline_json_body(RenderInput),
)
async def render_certificate(request: Request, account: AccountDep) -> Response:
    """The QR code or the PDF of a valid certificate this service signed (422 otherwise)."""
    resources = resources_of(request)
    kind = negotiate(request.headers.get("accept"), RENDER_FORMATS)
    decision = await charge_account(resources, account)  # api/render_limits.py
    hc1 = await read_hc1(request, resources.settings.max_body_bytes, what="render")
    job = partial(
        _render_hc1,
        hc1,
        kind,
        trust=resources.trust,
        now=resources.clock(),
        timezone=resources.settings.timezone,
        devices=resources.devices,
        renderer=resources.renderer,
    )
    async with resources.render_slots.hold(account.id):
        issued, content = await resources.in_render_thread(job)
    headers = {**decision.headers(), **NO_STORE, "DCC-UVCI": issued.uvci}
    if kind == "pdf":
        headers["Content-Disposition"] = pdf_disposition(issued.uvci)
    return Response(content, 200, headers, media_type=MEDIA_TYPES[kind])
