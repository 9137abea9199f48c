"""Revocation: the operator's routes (role ``operator``) and the public revocation list.

``POST /v1/revocations/certificate | account | key`` revoke, with a reason, one
certificate, what an account (or one member) issued in a time window, or everything a DSC
signed (and the DSC itself); revoking twice is harmless (``already_revoked``). ``GET
/v1/revocations/keys`` lists the revoked DSCs (what a trust list must leave out). ``GET
/v1/revocation-list`` is public: the EU gateway batch form (:mod:`hcert.revocation_list`),
with a strong ETag (``If-None-Match`` answers 304), gzip-compressed for clients that accept it
(its own ETag, ``-gz`` suffixed).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any, Final

from fastapi import APIRouter, Request
from starlette.responses import Response

from api.accounts import Account
from api.body import JSON_TYPES, parse_json, read_body, require_media_type
from api.deps import OperatorAccountDep, ResourcesDep
from api.responses import NO_STORE, json_response
from api.revocation_requests import (
    read_account_revocation,
    read_certificate_revocation,
    read_key_revocation,
)
from api.routes.revocation_schemas import (
    AccountRevocationInput,
    CertificateRevocationInput,
    KeyRevocationInput,
    RevocationListDocument,
    RevocationOutcome,
    RevokedKeyModel,
)
from api.routes.schemas import inline_json_body, problems
from api.runtime import Resources
from keys.revocation import retire_own_key
from store.revocations import Outcome

__all__ = ["router"]

_LOGGER = logging.getLogger("dcc.api")
_BODY_LIMIT: Final = 4096
_LIST_CACHE: Final = "public, max-age=60"

router = APIRouter(tags=["revocation"])


async def _body(request: Request) -> object:
    require_media_type(request, JSON_TYPES)
    return parse_json(await read_body(request, _BODY_LIMIT))


def _now(resources: Resources) -> int:
    return int(resources.clock().timestamp())


def _answer(
    resources: Resources,
    account: Account,
    scope: str,
    reason: str,
    outcome: Outcome,
    **extra: object,
) -> Response:
    resources.metrics.revocations.labels(reason).inc(outcome.revoked)
    resources.revocation_list.invalidate()
    _LOGGER.info(
        "revocation by account %s: scope %s, reason %s, %d matched, %d revoked",
        account.id,
        scope,
        reason,
        outcome.matched,
        outcome.revoked,
    )
    content = {
        "scope": scope,
        "reason": reason,
        "matched": outcome.matched,
        "revoked": outcome.revoked,
        "already_revoked": outcome.already,
        **extra,
    }
    return json_response(content, 200, NO_STORE)


_OUTCOME: Final[dict[int | str, dict[str, Any]]] = {
    200: {"model": RevocationOutcome, "description": "what was revoked"},
    **problems(400, 401, 403, 404, 413, 415, 422, 503),
}


@router.post(
    "/v1/revocations/certificate",
    summary="Revoke one certificate (operator role)",
    response_class=Response,
    responses=_OUTCOME,
    openapi_extra=inline_json_body(CertificateRevocationInput),
)
async def revoke_certificate(
    request: Request, resources: ResourcesDep, account: OperatorAccountDep
) -> Response:
    """Revoke the certificate ``uvci`` (404 when it was not issued here)."""
    body = read_certificate_revocation(await _body(request))
    outcome = await resources.store.revocations.revoke_certificate(
        body.uvci, reason=body.reason, by=account.id, now=_now(resources)
    )
    return _answer(resources, account, "certificate", body.reason, outcome)


@router.post(
    "/v1/revocations/account",
    summary="Revoke what an account issued in a time window (operator role)",
    response_class=Response,
    responses=_OUTCOME,
    openapi_extra=inline_json_body(AccountRevocationInput),
)
async def revoke_account(
    request: Request, resources: ResourcesDep, account: OperatorAccountDep
) -> Response:
    """The fraud case: every certificate of ``account_id`` (or its ``member``) issued in
    [``issued_from``, ``issued_until``), in one statement."""
    body = read_account_revocation(await _body(request))
    outcome = await resources.store.revocations.revoke_account(
        body.account_id,
        member=body.member,
        issued_from=body.issued_from,
        issued_until=body.issued_until,
        reason=body.reason,
        by=account.id,
        now=_now(resources),
    )
    return _answer(resources, account, "account", body.reason, outcome)


@router.post(
    "/v1/revocations/key",
    summary="Revoke a DSC and every certificate it signed (operator role)",
    response_class=Response,
    responses=_OUTCOME,
    openapi_extra=inline_json_body(KeyRevocationInput),
)
async def revoke_key(
    request: Request, resources: ResourcesDep, account: OperatorAccountDep
) -> Response:
    """The leak case: the DSC ``kid`` is recorded as revoked (trust lists drop it from
    ``distrust_at``) and every certificate of the register it signed is revoked; when it is
    one of this deployment's DSCs it also stops signing (every replica within a second)."""
    body = read_key_revocation(await _body(request))
    outcome = await resources.store.revocations.revoke_key(
        body.kid,
        reason=body.reason,
        by=account.id,
        now=_now(resources),
        distrust_at=body.distrust_at,
    )
    signs_here = await asyncio.to_thread(
        retire_own_key, resources.settings.keys_dir, body.kid, body.distrust_at
    )
    return _answer(resources, account, "key", body.reason, outcome, signing_key=signs_here)


def _instant(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@router.get(
    "/v1/revocations/keys",
    summary="The revoked DSCs (operator role)",
    response_class=Response,
    responses={
        200: {"model": list[RevokedKeyModel], "description": "revoked DSCs, oldest first"},
        **problems(401, 403, 503),
    },
)
async def revoked_keys(resources: ResourcesDep, account: OperatorAccountDep) -> Response:
    """Every revoked DSC with its reason and the moment trust lists drop it."""
    now = _now(resources)
    keys = await resources.store.revocations.revoked_keys()
    content = [
        {
            "kid": key.kid,
            "reason": key.reason,
            "revoked_by": key.revoked_by,
            "revoked_at": _instant(key.revoked_at),
            "distrust_at": _instant(key.distrust_at),
            "distrusted": key.distrust_at <= now,
        }
        for key in keys
    ]
    return json_response(content, 200, NO_STORE)


def _matches(header: str | None, etag: str) -> bool:
    if header is None:
        return False
    tags = {tag.strip().removeprefix("W/") for tag in header.split(",")}
    return etag in tags or "*" in tags


@router.get(
    "/v1/revocation-list",
    summary="The revocation list (EU gateway batch form)",
    response_class=Response,
    responses={
        200: {"model": RevocationListDocument, "description": "the revocation list"},
        304: {"description": "unchanged since the ETag sent in If-None-Match"},
        **problems(500, 503),
    },
)
async def revocation_list(request: Request, resources: ResourcesDep) -> Response:
    """Revoked, unexpired certificates as batches per kid and hash type (≤ 1000 entries)."""
    published = await resources.revocation_list.current()
    compressed = "gzip" in request.headers.get("accept-encoding", "").lower()
    etag = published.etag[:-1] + '-gz"' if compressed else published.etag
    headers = {"ETag": etag, "Cache-Control": _LIST_CACHE, "Vary": "Accept-Encoding"}
    if _matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    if compressed:
        headers["Content-Encoding"] = "gzip"
        return Response(published.gzip_body, 200, headers, media_type="application/json")
    return Response(published.body, 200, headers, media_type="application/json")
