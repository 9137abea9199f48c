"""IssueQueue: the single issues of one loop pass are issued together, each with its outcome."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from api.issue_queue import IssueQueue
from hcert.hc1 import decode_hc1
from issuer.issuer import Issuer
from keys.load import SigningKeys
from signing.cose import parse_sign1, verify_sign1
from signing.errors import RequestInvalid, SignerUnavailable
from tests.waiting import async_wait_until

IssuerFactory = Callable[..., Issuer]


@contextlib.contextmanager
def _all_signers_busy(issuer: Issuer) -> Iterator[None]:
    """Hold every signer of ``issuer``'s pool until the block ends."""
    held = [issuer.pool.try_acquire() for _ in range(issuer.pool.size)]
    try:
        yield
    finally:
        for signer in held:
            assert signer is not None
            issuer.pool.release(signer)


def _verifies(hc1: str, keys: SigningKeys) -> None:
    verify_sign1(parse_sign1(decode_hc1(hc1)), keys.certificate.public_key())  # type: ignore[arg-type]


async def test_concurrent_requests_each_get_their_own_certificate(
    es256_keys: SigningKeys,
    build_issuer: IssuerFactory,
    rat_request: dict[str, Any],
    naat_request: dict[str, Any],
) -> None:
    issuer = build_issuer(es256_keys)
    queue = IssueQueue(issuer)
    bodies = [rat_request, naat_request] * 10
    issued = await asyncio.gather(*(queue.issue(body) for body in bodies))
    assert [c.test_type for c in issued] == [issuer.validate(body).test_type for body in bodies]
    assert len({c.uvci for c in issued}) == len(bodies)
    for certificate in issued:
        _verifies(certificate.hc1, es256_keys)
    assert issuer.pool.in_use == 0


async def test_a_refused_request_fails_alone(
    es256_keys: SigningKeys, build_issuer: IssuerFactory, rat_request: dict[str, Any]
) -> None:
    queue = IssueQueue(build_issuer(es256_keys))
    outcomes = await asyncio.gather(
        queue.issue(rat_request),
        queue.issue({"person": {}}),
        queue.issue("not an object"),
        queue.issue(rat_request),
        return_exceptions=True,
    )
    assert [type(outcome).__name__ for outcome in outcomes] == [
        "IssuedCertificate",
        "RequestInvalid",
        "RequestInvalid",
        "IssuedCertificate",
    ]
    assert isinstance(outcomes[1], RequestInvalid)
    assert {e.field for e in outcomes[1].errors} >= {"test", "person.date_of_birth"}


async def test_one_pass_issues_at_most_max_batch_and_the_rest_follow(
    es256_keys: SigningKeys, build_issuer: IssuerFactory, rat_request: dict[str, Any]
) -> None:
    issuer = build_issuer(es256_keys)
    passes: list[int] = []
    queue = IssueQueue(issuer, max_batch=3)
    original = queue._drain

    def counting_drain(loop: asyncio.AbstractEventLoop) -> None:
        passes.append(len(queue._pending))
        original(loop)

    queue._drain = counting_drain  # type: ignore[method-assign]
    issued = await asyncio.gather(*(queue.issue(rat_request) for _ in range(7)))
    assert len(issued) == 7
    assert passes == [7, 4, 1]


async def test_a_cancelled_request_is_not_issued(
    es256_keys: SigningKeys, build_issuer: IssuerFactory, rat_request: dict[str, Any]
) -> None:
    issuer = build_issuer(es256_keys)
    queue = IssueQueue(issuer)
    signed: list[bytes] = []
    try_issue = issuer.try_sign

    def recording_try_issue(prepared: Any) -> Any:
        signed.append(prepared.claims)
        return try_issue(prepared)

    issuer.try_sign = recording_try_issue  # type: ignore[method-assign]
    kept = asyncio.ensure_future(queue.issue(rat_request))
    dropped = asyncio.ensure_future(queue.issue(rat_request))
    await asyncio.sleep(0)  # both are queued
    dropped.cancel()
    certificate = await kept
    with pytest.raises(asyncio.CancelledError):
        await dropped
    assert len(signed) == 1
    _verifies(certificate.hc1, es256_keys)


async def test_without_a_free_signer_the_request_waits_for_one(
    es256_keys: SigningKeys, build_issuer: IssuerFactory, rat_request: dict[str, Any]
) -> None:
    issuer = build_issuer(es256_keys, acquire_timeout=5.0)
    queue = IssueQueue(issuer)
    with _all_signers_busy(issuer):
        pending = asyncio.ensure_future(queue.issue(rat_request))
        # queued in the pool while this test's loop goes on: the loop is not blocked
        await async_wait_until(lambda: issuer.pool.waiting == 1, what="a request queued")
        assert not pending.done()
    _verifies((await pending).hc1, es256_keys)  # the released signer went to it
    assert issuer.pool.in_use == 0


async def test_a_signer_that_never_frees_gives_signer_unavailable(
    es256_keys: SigningKeys, build_issuer: IssuerFactory, rat_request: dict[str, Any]
) -> None:
    issuer = build_issuer(es256_keys, acquire_timeout=0.02)
    queue = IssueQueue(issuer)
    with _all_signers_busy(issuer), pytest.raises(SignerUnavailable):
        await queue.issue(rat_request)
    _verifies((await queue.issue(rat_request)).hc1, es256_keys)


async def test_cancelling_a_request_waiting_for_a_signer_stops_its_wait(
    es256_keys: SigningKeys, build_issuer: IssuerFactory, rat_request: dict[str, Any]
) -> None:
    issuer = build_issuer(es256_keys, acquire_timeout=5.0)
    queue = IssueQueue(issuer)
    with _all_signers_busy(issuer):
        pending = asyncio.ensure_future(queue.issue(rat_request))
        await async_wait_until(lambda: issuer.pool.waiting == 1, what="a request queued")
        pending.cancel()
        await async_wait_until(lambda: issuer.pool.waiting == 0, what="its wait withdrawn")
    with pytest.raises(asyncio.CancelledError):
        await pending
    assert issuer.pool.in_use == 0  # the waiting task gave up; nothing holds a signer


def test_max_batch_must_be_positive(es256_keys: SigningKeys, build_issuer: IssuerFactory) -> None:
    with pytest.raises(ValueError, match="max_batch"):
        IssueQueue(build_issuer(es256_keys), max_batch=0)
