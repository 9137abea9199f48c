"""Response models and OpenAPI fragments shared by the routes (documentation only).

Handlers build their JSON directly (``IssuedCertificate.to_response()``,
``VerificationReport.to_dict()``) and validate requests with the issuer's rules, so these
models exist to make the OpenAPI document exact: what schemathesis checks responses
against. :func:`problems` declares error statuses as ``application/problem+json`` with the
:class:`~api.problems.Problem` schema; :data:`EXTRA_SCHEMAS` lists the models
:func:`api.app.create_app` adds to ``components/schemas``.
"""

from __future__ import annotations

from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field

from api.problems import PROBLEM_MEDIA_TYPE, Problem
from hcert.hc1 import MAX_HC1_CHARS
from issuer.request import DESIGN_EXAMPLE, IssueRequestInput

__all__ = [
    "EXTRA_SCHEMAS",
    "BatchFailure",
    "BatchRequestInput",
    "BatchResponse",
    "BatchSuccess",
    "Health",
    "IssueResponse",
    "Readiness",
    "TrustListEntry",
    "VerificationReportModel",
    "VerifyRequestInput",
    "binary_body",
    "inline_json_body",
    "json_body",
    "multipart_image",
    "problems",
    "qr_or_pdf_content",
]


class IssueResponse(BaseModel):
    """The issue response of docs/http-api.md."""

    uvci: str = Field(examples=["URN:UVCI:01:LU:8J3K2M9QX4RT7WZ5#Q"])
    hc1: str = Field(pattern="^HC1:")
    kid: str = Field(description="base64 of the 8-byte kid")
    issued_at: str
    expires_at: str
    certificate: dict[str, Any] = Field(description="the DCC payload (-260/1)")


class BatchRequestInput(BaseModel):
    """Body of ``POST /v1/certificates/batch``.

    Each item is an ``IssueRequestInput``, but it is checked on its own: an item that breaks
    the rules yields an ``error`` in its result, never a refusal of the batch. The schema
    therefore admits any item; the maximum count is ``DCC_MAX_BATCH_ITEMS`` (default 1000).
    """

    model_config = ConfigDict(extra="forbid")
    items: list[Any] = Field(
        min_length=1,
        description="issue requests (see IssueRequestInput), each validated separately",
        examples=[[DESIGN_EXAMPLE]],
    )


class BatchSuccess(IssueResponse):
    """An issued item: its index in the request plus the issue response."""

    index: int = Field(ge=0)


class BatchFailure(BaseModel):
    """A refused item: its index and the problem that refused it."""

    index: int = Field(ge=0)
    error: Problem


class BatchResponse(BaseModel):
    """Per-item results in request order; one bad item never fails the others."""

    issued: int = Field(ge=0)
    failed: int = Field(ge=0)
    results: list[BatchSuccess | BatchFailure]


class VerifyRequestInput(BaseModel):
    """JSON body of ``POST /v1/verify``."""

    model_config = ConfigDict(extra="forbid")
    hc1: str = Field(max_length=MAX_HC1_CHARS, examples=["HC1:6BFOXN..."])
    country: str | None = Field(
        None, pattern="^[A-Z]{2}$", description="destination country (its rules)", examples=["LU"]
    )
    at: str | None = Field(
        None,
        max_length=40,
        description="validation time (ISO 8601)",
        examples=["2021-07-20T10:00:00Z"],
    )
    lang: Literal["de", "en", "es", "fr", "it", "nl", "pl", "pt"] | None = Field(
        None, description="language of the rule descriptions (default en)"
    )


class VerifyImageInput(BaseModel):
    """Multipart body of ``POST /v1/verify``: the QR image as file field ``image``."""

    image: bytes = Field(json_schema_extra={"format": "binary"})


class CheckModel(BaseModel):
    """One verification check."""

    name: str
    ok: bool
    detail: str | None = None
    code: str | None = None


class TrustListInfoModel(BaseModel):
    """The trust list that held the signer's certificate, and how old it is."""

    name: str
    kind: str
    updated_at: str | None = None


class VerificationReportModel(BaseModel):
    """The verification report of docs/verification-report.md."""

    valid: bool
    verdict: Literal["valid", "invalid", "issuer_unknown"] | None = None
    checks: list[CheckModel]
    error: dict[str, Any] | None = None
    kid: str | None = None
    issuer: str | None = None
    issued_at: str | None = None
    expires_at: str | None = None
    certificate: dict[str, Any] | None = None
    verified: bool | None = None
    trust_list: TrustListInfoModel | None = None
    destination: dict[str, Any] | None = None


class TrustListEntry(BaseModel):
    """One DSC this service signs with (DCCG-style)."""

    kid: str
    country: str
    certificateType: str
    thumbprint: str
    timestamp: str
    rawData: str


class Health(BaseModel):
    """Liveness."""

    status: str


class Readiness(BaseModel):
    """Readiness: ``ready``, ``degraded`` (serving on local quotas) or ``not-ready``."""

    status: str = Field(examples=["ready"])
    checks: dict[str, bool]
    limiter: dict[str, str]


EXTRA_SCHEMAS: Final[tuple[type[BaseModel], ...]] = (
    Problem,
    IssueRequestInput,
    BatchRequestInput,
    VerifyRequestInput,
    VerifyImageInput,
)

_BINARY: Final = {"type": "string", "format": "binary"}


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries: each status answers a problem+json Problem."""
    return {
        status: {
            "description": "problem details (RFC 9457)",
            "content": {PROBLEM_MEDIA_TYPE: {"schema": _ref(Problem)}},
        }
        for status in statuses
    }


def json_body(model: type[BaseModel], **extra_content: dict[str, Any]) -> dict[str, Any]:
    """``openapi_extra`` declaring a required request body of ``model`` (plus other types)."""
    content: dict[str, Any] = {"application/json": {"schema": _ref(model)}}
    content.update(extra_content)
    return {"requestBody": {"required": True, "content": content}}


def inline_json_body(model: type[BaseModel]) -> dict[str, Any]:
    """``openapi_extra`` declaring a required JSON body of ``model``, its schema inline."""
    schema = model.model_json_schema()
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


def binary_body() -> dict[str, Any]:
    """A request-body media entry for raw bytes."""
    return {"schema": _BINARY}


def qr_or_pdf_content() -> dict[str, Any]:
    """A response's ``content`` entries: the QR code as PNG or SVG, or the PDF."""
    return {
        "image/png": {"schema": _BINARY},
        "image/svg+xml": {"schema": {"type": "string"}},
        "application/pdf": {"schema": _BINARY},
    }


def multipart_image() -> dict[str, Any]:
    """A request-body media entry for a multipart form with the file field ``image``."""
    return {"schema": _ref(VerifyImageInput)}
