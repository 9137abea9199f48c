"""``POST /v1/certificates`` (one: JSON, QR image or PDF) and ``POST /v1/certificates/batch``.

Order of work: auth → (``Idempotency-Key``: claim or replay) → quota → bounded parse →
issuer → register (group commit) → audit → response (:mod:`api.issuance`). Signing runs on
the event loop (tens of µs, less than a thread hand-off), the single issues of one loop
pass back to back (:class:`~api.issue_queue.IssueQueue`); QR rendering (ms) and batches run
in worker threads bounded by capacity limiters, so a running batch never stalls single
requests. A single issue costs one unit of quota, issued or not; a batch is validated
first and costs the items it will issue (an all-invalid batch costs one, the guard against
floods of invalid items).

The single issue is the route a surge hits: it is served as a plain route
(:data:`ISSUE_ROUTE`, :mod:`api.plain_route`) rather than through FastAPI's request handling;
its ``documentation`` describes it in the OpenAPI document. The batch route is a normal
FastAPI route (:data:`router`).
"""

from __future__ import annotations

import time
from functools import partial
from typing import Any, Final, Literal

import anyio.to_thread
import orjson
from fastapi import APIRouter, Request
from starlette.responses import Response

from api.accounts import Account
from api.batch import prepare_batch, sign_batch
from api.body import JSON_TYPES, parse_json, read_body, require_media_type
from api.deps import BEARER_SECURITY, LabAccountDep, account_of, charge_issuance, resources_of
from api.idempotency import idempotency_key
from api.issuance import (
    channel_of,
    claim_key,
    finish,
    register_rows,
    releasing,
    start_recording,
)
from api.negotiation import negotiate
from api.plain_route import PlainRoute
from api.ratelimit import Decision
from api.responses import JSON_MEDIA_TYPE, NO_STORE
from api.routes.schemas import (
    BatchRequestInput,
    BatchResponse,
    IssueResponse,
    json_body,
    problems,
    qr_or_pdf_content,
)
from api.runtime import Resources
from issuer.issuer import PreparedCertificate
from issuer.render import MEDIA_TYPES, pdf_disposition
from issuer.request import IssueRequestInput
from signing.errors import DccError, RequestInvalid, SignerUnavailable, SigningError
from store.idempotency import Claimed

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

IDEMPOTENCY_KEY_PARAMETER: Final[dict[str, Any]] = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "Retry safely: the same key and body within 24 h answer the first "
    "response again (no new certificate, no quota); another body with the key is 422, a "
    "retry while the first attempt runs is 409.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
}

router = APIRouter(tags=["certificates"])


def _outcome(error: DccError) -> str:
    if isinstance(error, RequestInvalid):
        return "invalid"
    return "unavailable" if isinstance(error, SignerUnavailable | SigningError) else "failed"


async def _request_body(request: Request, limit: int) -> bytes:
    """The JSON body's bytes, at most ``limit`` (415 for another media type)."""
    require_media_type(request, JSON_TYPES)
    return await read_body(request, limit)


async def issue_certificate(request: Request) -> Response:
    """Issue one certificate: the issue response as JSON, the QR code or the PDF by ``Accept``."""
    resources = resources_of(request)
    account = await account_of(request, resources)
    product = negotiate(request.headers.get("accept"), PRODUCTS)
    key = idempotency_key(request)
    claim = None
    if key is None:
        decision = await charge_issuance(resources, account, cost=1)
        body = await _request_body(request, resources.settings.max_body_bytes)
    else:
        body = await _request_body(request, resources.settings.max_body_bytes)
        outcome = await claim_key(resources, account, key, request, product, body)
        if isinstance(outcome, Response):
            return outcome
        claim = outcome
    async with releasing(resources, claim):
        if claim is not None:
            decision = await charge_issuance(resources, account, cost=1)
        return await _issue_one(
            resources, account, parse_json(body), product, request, decision, claim
        )


async def _issue_one(
    resources: Resources,
    account: Account,
    payload: object,
    product: Product,
    request: Request,
    decision: Decision,
    claim: Claimed | None,
) -> Response:
    metrics = resources.metrics
    started = time.perf_counter()
    try:
        issued = await resources.queue_for(account.scope).issue(payload)
    except DccError as error:
        metrics.child(metrics.issued, "unknown", _outcome(error)).inc()
        raise
    rows = register_rows(
        (issued,), account_id=account.id, channel=channel_of(request), member=account.member
    )
    recording = start_recording(resources, rows, claim)
    headers = {**decision.headers(), **NO_STORE, UVCI_HEADER: issued.uvci}
    if product == "json":
        media_type, content = JSON_MEDIA_TYPE, orjson.dumps(issued.to_response())
    else:
        job = partial(
            resources.renderer.render,
            issued,
            product,
            timezone=resources.settings.timezone,
            devices=resources.devices,
        )
        media_type, content = MEDIA_TYPES[product], await resources.in_render_thread(job)
        if product == "pdf":
            headers["Content-Disposition"] = pdf_disposition(issued.uvci)
    response = await finish(
        resources,
        recording,
        status=201,
        media_type=media_type,
        headers=headers,
        body=content,
    )
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
        **problems(400, 401, 403, 406, 409, 413, 415, 422, 429, 500, 503),
    },
    openapi_extra={
        **json_body(IssueRequestInput),
        **BEARER_SECURITY,
        "parameters": [IDEMPOTENCY_KEY_PARAMETER],
    },
)
"""The single-issue route as the app mounts it (first, before the FastAPI routes)."""


@router.post(
    "/v1/certificates/batch",
    summary="Issue many test certificates (lab role)",
    response_class=Response,
    responses={
        200: {"model": BatchResponse, "description": "one result per item, in order"},
        **problems(400, 401, 403, 409, 413, 415, 422, 429, 500, 503),
    },
    openapi_extra={**json_body(BatchRequestInput), "parameters": [IDEMPOTENCY_KEY_PARAMETER]},
)
async def issue_batch(request: Request, account: LabAccountDep) -> Response:
    """Issue every item; each result keeps its index and holds a response or a problem."""
    resources = resources_of(request)
    settings = resources.settings
    body = await _request_body(request, settings.max_batch_body_bytes)
    key = idempotency_key(request)
    claim = None
    if key is not None:
        outcome = await claim_key(resources, account, key, request, "batch", body)
        if isinstance(outcome, Response):
            return outcome
        claim = outcome
    async with releasing(resources, claim):
        return await _issue_batch(resources, account, body, claim)


async def _issue_batch(
    resources: Resources, account: Account, body: bytes, claim: Claimed | None
) -> Response:
    metrics = resources.metrics
    started = time.perf_counter()
    issuer = resources.runtime.issuer_for(account.scope)
    threads = resources.batch_threads
    max_items = resources.settings.max_batch_items
    prepared = await anyio.to_thread.run_sync(
        prepare_batch, issuer, body, max_items, limiter=threads
    )
    ready = sum(isinstance(item, PreparedCertificate) for item in prepared)
    decision = await charge_issuance(resources, account, cost=max(1, ready))
    signed = await anyio.to_thread.run_sync(sign_batch, issuer, prepared, account, limiter=threads)
    recording = start_recording(resources, signed.rows, claim)
    for failure in signed.failures:
        metrics.child(metrics.issued, "unknown", _outcome(failure)).inc()
    response = await finish(
        resources,
        recording,
        status=200,
        media_type=JSON_MEDIA_TYPE,
        headers={**decision.headers(), **NO_STORE},
        body=signed.body,
    )
    metrics.child(metrics.issue_seconds, "batch").observe(time.perf_counter() - started)
    return response
