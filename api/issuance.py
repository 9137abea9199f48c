"""What serving adds around the issuer: idempotency keys, the register, the audit trail.

Every issuing route calls :func:`start_recording` once its certificates are signed (the
register rows go into the group commit at once, unless an ``Idempotency-Key`` asks for the
response to be stored with them) and ends in :func:`finish`: only once the rows (and the
stored response) are durable are the audit lines written and the answer sent. A certificate
whose row did not commit is never handed out (the store's failure becomes 503 +
``Retry-After``); one whose response failed after its row was queued keeps its row (it can
still be revoked).

:func:`claim_key` decides what an ``Idempotency-Key`` means for this request before any
quota is spent (a replay spends none); :func:`releasing` gives the key back when the
request fails before it finished, so that the client's retry starts afresh.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from starlette.requests import Request
from starlette.responses import Response

from api.accounts import Account
from api.idempotency import (
    IdempotencyKeyInFlight,
    IdempotencyKeyReused,
    fingerprint,
    replay,
    stored,
)
from api.metrics import type_label
from api.responses import NO_STORE
from api.runtime import Resources
from issuer.issuer import IssuedCertificate
from store.errors import StoreUnavailable
from store.idempotency import Claimed, Completion, Replay
from store.register import Channel, IssuanceRecord

__all__ = [
    "CHANNEL_HEADER",
    "Recording",
    "channel_of",
    "claim_key",
    "finish",
    "register_rows",
    "releasing",
    "start_recording",
]

CHANNEL_HEADER: Final = "dcc-channel"
"""Set to ``form`` by the pharmacist's page, so the register tells form from API issues."""
_LOGGER = logging.getLogger("dcc.api")


def channel_of(request: Request) -> Channel:
    """``form`` for the web form's requests, else ``single``."""
    return "form" if request.headers.get(CHANNEL_HEADER) == "form" else "single"


def register_rows(
    issued: Sequence[IssuedCertificate],
    *,
    account_id: str,
    channel: Channel,
    member: str | None = None,
) -> list[IssuanceRecord]:
    """The register rows of ``issued`` (identifiers, times, revocation hashes: nothing personal)."""
    rows = []
    for certificate in issued:
        audit = certificate.audit()
        rows.append(
            IssuanceRecord(
                uvci=certificate.uvci,
                kid=audit["kid"],
                account_id=account_id,
                member=member,
                test_type=certificate.test_type,
                channel=channel,
                issued_at=audit["iat"],
                expires_at=audit["exp"],
                signature_hash=audit["signature_hash"],
                uci_hash=audit["uci_hash"],
                country_uci_hash=audit["country_uci_hash"],
            )
        )
    return rows


async def claim_key(
    resources: Resources, account: Account, key: str, request: Request, product: str, body: bytes
) -> Claimed | Response:
    """The claim of ``key`` for this request, or the stored response to answer again."""
    outcome = await resources.store.idempotency.claim(
        account.id,
        key,
        fingerprint(request.method, request.url.path, product, body),
        now=int(resources.clock().timestamp()),
    )
    resources.metrics.idempotency.labels(
        outcome if isinstance(outcome, str) else type(outcome).__name__.lower()
    ).inc()
    if isinstance(outcome, Replay):
        return replay(outcome.response, NO_STORE)
    if outcome == "in_flight":
        raise IdempotencyKeyInFlight(
            "a request with this Idempotency-Key is being served: retry once it finished"
        )
    if outcome == "mismatch":
        raise IdempotencyKeyReused(
            "this Idempotency-Key was used for a different request; use a new key"
        )
    return outcome


@contextlib.asynccontextmanager
async def releasing(resources: Resources, claim: Claimed | None) -> AsyncIterator[None]:
    """Release ``claim`` when the block fails (before :func:`finish` committed it)."""
    try:
        yield
    except BaseException:
        if claim is not None:
            try:
                await resources.store.idempotency.release(claim)
            except StoreUnavailable as error:  # the lease expires by itself
                _LOGGER.warning("idempotency key not released: %s", error)
        raise


@dataclass(slots=True)
class Recording:
    """The register rows of issued certificates, and either their commit under way or the
    Idempotency-Key claim whose response will be committed with them."""

    rows: list[IssuanceRecord]
    committed: asyncio.Future[None] | None
    claim: Claimed | None = None


def start_recording(
    resources: Resources, rows: list[IssuanceRecord], claim: Claimed | None
) -> Recording:
    """The recording of ``rows`` (:func:`register_rows`); without an Idempotency-Key they are
    queued for commit at once, so that the group commits while the route builds its response
    (the JSON, the QR code, the PDF). With a key the stored response commits with them, in
    :func:`finish`."""
    if claim is not None:
        return Recording(rows, None, claim)
    committed = resources.store.commits.submit(rows)
    committed.add_done_callback(_retrieved)  # finish() raises it; never "never retrieved"
    return Recording(rows, committed)


def _retrieved(future: asyncio.Future[None]) -> None:
    if not future.cancelled():
        future.exception()


async def finish(
    resources: Resources,
    recording: Recording,
    *,
    status: int,
    media_type: str,
    headers: Mapping[str, str],
    body: bytes,
) -> Response:
    """Wait for the rows (and the stored response) to commit, audit, count; the response."""
    rows, claim = recording.rows, recording.claim
    if recording.committed is not None:
        await recording.committed
    else:
        completion = None
        if claim is not None:
            completion = Completion(claim, stored(status, media_type, headers, body))
        await resources.store.commits.record(rows, completion)
    metrics = resources.metrics
    for row in rows:
        metrics.child(metrics.issued, type_label(row.test_type), "issued").inc()
    resources.audit.record(rows)
    return Response(body, status, dict(headers), media_type=media_type)
