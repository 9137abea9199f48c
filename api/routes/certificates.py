"""``POST /v1/certificates`` (one: JSON, QR image or PDF) and ``POST /v1/certificates/batch``.

Order of work, as in DESIGN: auth → quota → bounded parse → issuer → response. Signing runs
on the event loop (tens of µs, less than a thread hand-off), the single issues of one loop
pass back to back (:class:`~api.issue_queue.IssueQueue`);
QR rendering (ms) and batches run in worker threads bounded by capacity limiters, so a
running batch never stalls single requests. Each issued certificate writes one audit line
(:mod:`api.audit`: identifiers and times, never a name or a date of birth) before it is
answered.

The single issue is the route a surge hits: it is served as a plain route
(:data:`ISSUE_ROUTE`, :mod:`api.plain_route`) rather than through FastAPI's request handling;
its ``documentation`` describes it in the OpenAPI document. The batch route is a normal
FastAPI route (:data:`router`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from functools import partial
from typing import Any, Final, Literal

import anyio.to_thread
from fastapi import APIRouter, Request
from starlette.responses import Response

from api.accounts import Account
from api.body import json_object, read_json
from api.deps import BEARER_SECURITY, LabAccountDep, account_of, charge_issuance, resources_of
from api.metrics import type_label
from api.negotiation import negotiate
from api.plain_route import PlainRoute
from api.problems import problem_for
from api.responses import NO_STORE, json_response
from api.routes.schemas import (
    BatchRequestInput,
    BatchResponse,
    IssueResponse,
    json_body,
    problems,
    qr_or_pdf_content,
)
from api.runtime import Resources
from issuer.issuer import IssuedCertificate
from issuer.render import MEDIA_TYPES, pdf_disposition, render
from issuer.request import IssueRequestInput
from signing.errors import DccError, FieldError, RequestInvalid, SignerUnavailable, SigningError

__all__ = [
    "ISSUE_PATH",
    "ISSUE_ROUTE",
    "PRODUCTS",
    "UVCI_HEADER",
    "issue_certificate",
    "router",
]

ISSUE_PATH: Final = "/v1/certificates"
UVCI_HEADER: Final = "DCC-UVCI"
Product = Literal["json", "png", "svg", "pdf"]
PRODUCTS: Final[tuple[tuple[str, Product], ...]] = (
    ("application/json", "json"),
    *((media, kind) for kind, media in MEDIA_TYPES.items()),
)
"""What the single issue answers by ``Accept``; JSON first (the default)."""

router = APIRouter(tags=["certificates"])


def _outcome(error: DccError) -> str:
    if isinstance(error, RequestInvalid):
        return "invalid"
    return "unavailable" if isinstance(error, SignerUnavailable | SigningError) else "failed"


def _record(resources: Resources, account: Account, issued: Sequence[IssuedCertificate]) -> None:
    """Count the certificates and write their audit lines."""
    metrics = resources.metrics
    for certificate in issued:
        metrics.child(metrics.issued, type_label(certificate.test_type), "issued").inc()
    resources.audit.record(account.id, issued)


async def issue_certificate(request: Request) -> Response:
    """Issue one certificate: the issue response as JSON, the QR code or the PDF by ``Accept``."""
    resources = resources_of(request)
    metrics = resources.metrics
    account = await account_of(request, resources)
    product = negotiate(request.headers.get("accept"), PRODUCTS)
    decision = await charge_issuance(resources, account, cost=1)
    payload = await read_json(request, resources.settings.max_body_bytes)
    started = time.perf_counter()
    try:
        issued = await resources.issue_queue.issue(payload)
    except DccError as error:
        metrics.child(metrics.issued, "unknown", _outcome(error)).inc()
        raise
    _record(resources, account, (issued,))
    headers = {**decision.headers(), **NO_STORE, UVCI_HEADER: issued.uvci}
    if product == "json":
        response = json_response(issued.to_response(), 201, headers)
    else:
        job = partial(
            render,
            issued,
            product,
            timezone=resources.settings.timezone,
            devices=resources.devices,
        )
        content = await resources.in_render_thread(job)
        if product == "pdf":
            headers["Content-Disposition"] = pdf_disposition(issued.uvci)
        response = Response(content, 201, headers, media_type=MEDIA_TYPES[product])
    metrics.child(metrics.issue_seconds, product).observe(time.perf_counter() - started)
    return response


ISSUE_ROUTE: Final = PlainRoute(
    ISSUE_PATH,
    issue_certificate,
    methods=["POST"],
    status_code=201,
    summary="Issue one test certificate",
    tags=["certificates"],
    response_class=Response,
    responses={
        201: {"model": IssueResponse, "description": "issued", "content": qr_or_pdf_content()},
        **problems(400, 401, 406, 413, 415, 422, 429, 500, 503),
    },
    openapi_extra={**json_body(IssueRequestInput), **BEARER_SECURITY},
)
"""The single-issue route as the app mounts it (first, before the FastAPI routes)."""


def _batch_items(body: object, limit: int) -> list[object]:
    """The ``items`` list of a batch body (422 for any other shape or more than ``limit``)."""
    fields, errors = json_object(body, ("items",), what="batch")
    items = fields.get("items")
    if not isinstance(items, list) or not items:
        errors.append(FieldError("items", "items_invalid", "items must be a non-empty list"))
    elif len(items) > limit:
        errors.append(
            FieldError("items", "batch_too_large", f"a batch holds at most {limit} items")
        )
    if errors:
        raise RequestInvalid(errors, message="the batch request is invalid")
    assert isinstance(items, list)
    return items


def _batch_result(index: int, result: IssuedCertificate | DccError) -> dict[str, Any]:
    if isinstance(result, IssuedCertificate):
        return {"index": index, **result.to_response()}
    _, problem, _ = problem_for(result)
    return {"index": index, "error": problem}


@router.post(
    "/v1/certificates/batch",
    summary="Issue many test certificates (lab role)",
    response_class=Response,
    responses={
        200: {"model": BatchResponse, "description": "one result per item, in order"},
        **problems(400, 401, 403, 413, 415, 422, 429, 500, 503),
    },
    openapi_extra=json_body(BatchRequestInput),
)
async def issue_batch(request: Request, account: LabAccountDep) -> Response:
    """Issue every item; each result keeps its index and holds a response or a problem."""
    resources = resources_of(request)
    settings = resources.settings
    metrics = resources.metrics
    body = await read_json(request, settings.max_batch_body_bytes)
    items = _batch_items(body, settings.max_batch_items)
    decision = await charge_issuance(resources, account, cost=len(items))
    started = time.perf_counter()
    issuer = resources.runtime.issuer
    results = await anyio.to_thread.run_sync(
        issuer.issue_batch, items, limiter=resources.batch_threads
    )
    issued = [result for result in results if isinstance(result, IssuedCertificate)]
    _record(resources, account, issued)
    failed = len(results) - len(issued)
    for result in results:
        if isinstance(result, DccError):
            metrics.child(metrics.issued, "unknown", _outcome(result)).inc()
    metrics.child(metrics.issue_seconds, "batch").observe(time.perf_counter() - started)
    content = {
        "issued": len(results) - failed,
        "failed": failed,
        "results": [_batch_result(index, result) for index, result in enumerate(results)],
    }
    return json_response(content, 200, {**decision.headers(), **NO_STORE})
