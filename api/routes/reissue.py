"""``POST /v1/certificates/{uvci}/reissue``: a corrected certificate in place of one issued
with a mistake or signed by a leaked key (guided re-issue).

The register keeps no names or dates of birth (by design), so the person's data cannot come
from the service: the caller sends the corrected issue request again (the same body as
``POST /v1/certificates``). The service checks what it can: the old certificate exists, the
caller's account issued it, it was not re-issued already and not revoked for fraud. It
then issues the new certificate (a new UVCI, the current DSC) and, in **one transaction**,
records its register row and revokes the old one with reason ``reissued`` (``replaced_by``
= the new UVCI): either both happen or neither, and a second re-issue of the same
certificate is 409. A certificate revoked earlier for ``key_compromise`` or
``issued_in_error`` keeps that reason and gets its ``replaced_by``. The answer is the issue
response (JSON) with ``DCC-UVCI`` (new) and ``DCC-Replaces`` (old). Order: the role, the
body (422), the old certificate (404, 409), then one unit of the account's issuance quota
(429). Without an ``Idempotency-Key`` replay: if the answer is lost, the
new certificate is in the register (``DCC-UVCI`` of the audit line) and an operator can
revoke it.
"""

from __future__ import annotations

from typing import Final

import orjson
from fastapi import APIRouter, Request
from starlette.responses import Response

from api.auth import require_role
from api.body import JSON_TYPES, parse_json, read_body, require_media_type
from api.deps import AccountDep, ResourcesDep, charge_issuance
from api.issuance import register_rows
from api.metrics import type_label
from api.responses import JSON_MEDIA_TYPE, NO_STORE
from api.routes.schemas import IssueResponse, json_body, problems
from issuer.request import IssueRequestInput
from signing.errors import FieldError, RequestInvalid
from store.accounts import ISSUING_ROLES

__all__ = ["REPLACES_HEADER", "router"]

REPLACES_HEADER: Final = "DCC-Replaces"
_MAX_UVCI_CHARS: Final = 80

router = APIRouter(tags=["certificates"])


@router.post(
    "/v1/certificates/{uvci:path}/reissue",
    summary="Re-issue a certificate: a new one from the corrected request, the old revoked",
    status_code=201,
    response_class=Response,
    responses={
        201: {"model": IssueResponse, "description": "the new certificate"},
        **problems(400, 401, 403, 404, 409, 413, 415, 422, 429, 500, 503),
    },
    openapi_extra=json_body(IssueRequestInput),
)
async def reissue_certificate(
    uvci: str, request: Request, resources: ResourcesDep, account: AccountDep
) -> Response:
    """Issue the corrected request and revoke ``uvci`` (reason ``reissued``) atomically."""
    if len(uvci) > _MAX_UVCI_CHARS:
        raise RequestInvalid(
            [FieldError("uvci", "too_long", "a UVCI has at most 80 characters")],
            message="the re-issue request is invalid",
        )
    require_role(account, *ISSUING_ROLES)
    require_media_type(request, JSON_TYPES)
    payload = parse_json(await read_body(request, resources.settings.max_body_bytes))
    resources.runtime.issuer.validate(payload)  # 422 before anything is looked up or charged
    revocations = resources.store.revocations
    await revocations.can_reissue(uvci, account.id)
    decision = await charge_issuance(resources, account, cost=1)
    issued = await resources.issue_queue.issue(payload)
    [row] = register_rows([issued], account_id=account.id, channel="reissue")
    now = int(resources.clock().timestamp())
    await revocations.reissue(uvci, row, by=account.id, now=now)
    resources.revocation_list.invalidate()
    metrics = resources.metrics
    metrics.child(metrics.issued, type_label(issued.test_type), "issued").inc()
    metrics.revocations.labels("reissued").inc()
    resources.audit.record([row])
    headers = {
        **decision.headers(),
        **NO_STORE,
        "DCC-UVCI": issued.uvci,
        REPLACES_HEADER: uvci,
    }
    return Response(orjson.dumps(issued.to_response()), 201, headers, media_type=JSON_MEDIA_TYPE)
