"""The JSON endpoints the pharmacist's page needs, besides issuing itself.

- ``GET /v1/devices``: the RAT devices the service accepts, by name (public data, public).
- ``POST /v1/names/preview``: the standardised names issuing would derive (API key).
- ``POST /v1/certificates/render``: the QR code (PNG/SVG) or the printable PDF of a
  certificate this service issued, from its HC1 text (API key). The page issues once as
  JSON and renders that HC1, so the QR shown and the PDF printed are the certificate whose
  UVCI is shown; nothing is issued twice.

The preview costs microseconds on at most 80 characters per name, so an API key is its
only gate; rendering is CPU work (verification, QR, ~0.15 s for a PDF) and runs in the
bounded render threads.
"""

from __future__ import annotations

from functools import partial
from typing import Any, Final

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from api.body import read_json
from api.deps import AccountDep, resources_of
from api.pages.names import preview_names
from api.pages.render import MEDIA_TYPES, RenderFormat, pdf_disposition, render_hc1
from api.problems import NotAcceptable, ProblemFieldError
from api.responses import NO_STORE, json_response
from api.routes.schemas import problems, qr_or_pdf_content
from issuer.errors import FieldError, RequestInvalid
from issuer.hc1 import MAX_HC1_CHARS

__all__ = ["DeviceEntry", "DeviceList", "NamesPreview", "NamesPreviewInput", "RenderInput"]

_PREVIEW_BODY_BYTES: Final = 4096

router = APIRouter(tags=["pages"])


class DeviceEntry(BaseModel):
    """One rapid antigen test device: its EU id and display name (None when unnamed)."""

    id: str = Field(examples=["1232"])
    name: str | None = Field(examples=["Abbott Rapid Diagnostics, Panbio COVID-19 Ag Rapid Test"])


class DeviceList(BaseModel):
    """The active RAT devices sorted by name; ``configured`` is false without a device list
    (then any EU device id of 3 to 6 digits is accepted and ``devices`` is empty)."""

    configured: bool
    devices: list[DeviceEntry]


class NamesPreviewInput(BaseModel):
    """Body of ``POST /v1/names/preview``."""

    model_config = ConfigDict(extra="forbid")
    family_name: str | None = Field(default=None, examples=["Müller-Schmidt"])
    given_name: str | None = Field(default=None, examples=["Anna Maria"])


class NamesPreview(BaseModel):
    """The standardised forms issuing would put in ``fnt`` / ``gnt``, and any rule broken."""

    family_name_standardised: str | None = Field(examples=["MUELLER<SCHMIDT"])
    given_name_standardised: str | None = Field(examples=["ANNA<MARIA"])
    errors: list[ProblemFieldError]


class RenderInput(BaseModel):
    """Body of ``POST /v1/certificates/render``: the HC1 text of an issued certificate."""

    model_config = ConfigDict(extra="forbid")
    hc1: str = Field(pattern="^HC1:", max_length=MAX_HC1_CHARS)


def _inline_body(model: type[BaseModel]) -> dict[str, Any]:
    schema = model.model_json_schema()
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


@router.get(
    "/v1/devices",
    summary="The rapid antigen test devices, by name",
    response_class=Response,
    responses={200: {"model": DeviceList, "description": "the device list"}, **problems(500)},
)
async def devices(request: Request) -> Response:
    """The active devices of the configured EU RAT list, sorted by name."""
    registry = resources_of(request).runtime.issuer.devices
    listed = [{"id": d.id, "name": d.name} for d in registry.devices(active_only=True)]
    content = {"configured": registry.configured, "devices": listed}
    return json_response(content, headers={"Cache-Control": "public, max-age=300"})


@router.post(
    "/v1/names/preview",
    summary="Preview the standardised (ICAO 9303) names",
    response_class=Response,
    responses={
        200: {"model": NamesPreview, "description": "the standardised names"},
        **problems(400, 401, 413, 415, 422, 500),
    },
    openapi_extra=_inline_body(NamesPreviewInput),
)
async def names_preview(request: Request, account: AccountDep) -> Response:
    """What ``fnt``/``gnt`` issuing would derive from these names (errors as field errors)."""
    resources = resources_of(request)
    body = await read_json(request, _PREVIEW_BODY_BYTES)
    policy = resources.runtime.issuer.config.policy
    return json_response(preview_names(body, max_length=policy.max_name_length), headers=NO_STORE)


def render_format(accept: str | None) -> RenderFormat:
    """PNG, SVG or PDF, the first of them the ``Accept`` header names (PNG for none/``*/*``).

    Raises :class:`NotAcceptable` when the header admits none of them.
    """
    ranges = [
        item.split(";")[0].strip().lower()
        for item in (accept or "*/*").split(",")
        if "q=0" not in item.replace(" ", "").split(";")[1:]
    ]
    for media in ranges:
        for kind, media_type in MEDIA_TYPES.items():
            if media == media_type:
                return kind
    if any(media in {"*/*", "image/*"} for media in ranges) or not ranges:
        return "png"
    raise NotAcceptable(
        "this endpoint answers image/png, image/svg+xml or application/pdf",
        available=list(MEDIA_TYPES.values()),
    )


def _hc1_from(body: object) -> str:
    if not isinstance(body, dict) or set(body) != {"hc1"} or not isinstance(body["hc1"], str):
        raise RequestInvalid(
            [FieldError("hc1", "hc1_missing", 'the body must be {"hc1": "HC1:…"} alone')]
        )
    hc1: str = body["hc1"]
    if len(hc1) > MAX_HC1_CHARS:
        raise RequestInvalid(
            [FieldError("hc1", "hc1_too_long", f"hc1 is longer than {MAX_HC1_CHARS} characters")]
        )
    return hc1


@router.post(
    "/v1/certificates/render",
    summary="Render an issued certificate as QR image or printable PDF",
    response_class=Response,
    responses={
        200: {"description": "the QR code or the PDF", "content": qr_or_pdf_content()},
        **problems(400, 401, 406, 413, 415, 422, 500),
    },
    openapi_extra=_inline_body(RenderInput),
)
async def render_certificate(request: Request, account: AccountDep) -> Response:
    """The QR code or the PDF of a valid certificate this service signed (422 otherwise)."""
    resources = resources_of(request)
    kind = render_format(request.headers.get("accept"))
    hc1 = _hc1_from(await read_json(request, resources.settings.max_body_bytes))
    render = partial(
        render_hc1,
        hc1,
        kind,
        trust=resources.trust,
        now=resources.clock(),
        timezone=resources.settings.timezone,
        devices=resources.runtime.issuer.devices,
    )
    issued, content = await resources.in_render_thread(render)
    headers = {**NO_STORE, "DCC-UVCI": issued.uvci}
    if kind == "pdf":
        headers["Content-Disposition"] = pdf_disposition(issued.uvci)
    return Response(content, 200, headers, media_type=MEDIA_TYPES[kind])
