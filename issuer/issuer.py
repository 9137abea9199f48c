"""The :class:`Issuer`: validated request → DCC payload → CWT → COSE_Sign1 → ``HC1:``.

It holds no request state: the UVCI comes from ``secrets``, the time from an injectable
clock, the signature from the signer pool. Synchronous entry points serve threads (batch
workers, the CLI); :meth:`Issuer.issue_async` serves the event loop, waiting for a signer
slot without blocking it. Signing inline is right: an ES256 signature costs ~27 µs, less
than a thread hand-off (performance.md).
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from issuer.errors import DccError, FieldError, KeyMaterialError, RequestInvalid
from issuer.hc1 import encode_hc1
from issuer.payload import encode_claims, test_certificate
from issuer.request import NegativeTestRequest, RequestPolicy, validate_issue_request
from issuer.revocation import signature_hash
from issuer.uvci import generate_uvci
from issuer.valuesets import TEST_TYPE_NAAT, TEST_TYPE_RAT, DeviceRegistry
from signing.cose import encode_sign1
from signing.pool import SignerPool
from signing.signer import Signer

__all__ = ["IssuedCertificate", "Issuer", "IssuerConfig", "PreparedCertificate"]

Clock = Callable[[], datetime]


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _default_validity() -> dict[str, timedelta]:
    return {TEST_TYPE_RAT: timedelta(hours=48), TEST_TYPE_NAAT: timedelta(hours=72)}


@dataclass(frozen=True)
class IssuerConfig:
    """What the issuing authority decides: who it is and how long certificates last."""

    country: str = "LU"
    issuer_name: str = "Ministry of Health"
    validity: dict[str, timedelta] = field(default_factory=_default_validity)
    policy: RequestPolicy = field(default_factory=RequestPolicy)

    def validity_for(self, test_type: str) -> timedelta:
        return self.validity[test_type]


@dataclass(frozen=True, slots=True)
class PreparedCertificate:
    """Everything of a certificate but its signature."""

    uvci: str
    test_type: str
    issued_at: datetime
    expires_at: datetime
    certificate: dict[str, Any]
    claims: bytes


@dataclass(frozen=True, slots=True)
class IssuedCertificate:
    """A signed certificate and what the issuer keeps of it (no personal data in ``audit``)."""

    uvci: str
    hc1: str
    kid: bytes
    test_type: str
    issued_at: datetime
    expires_at: datetime
    certificate: dict[str, Any]
    signature: bytes

    def to_response(self) -> dict[str, Any]:
        """The issue response of DESIGN.md."""
        return {
            "uvci": self.uvci,
            "hc1": self.hc1,
            "kid": base64.b64encode(self.kid).decode("ascii"),
            "issued_at": _iso(self.issued_at),
            "expires_at": _iso(self.expires_at),
            "certificate": self.certificate,
        }

    def audit(self) -> dict[str, Any]:
        """The audit record: identifiers, times and the revocation hash (hcert §8).

        Never a name or a date of birth.
        """
        return {
            "uvci": self.uvci,
            "kid": base64.b64encode(self.kid).decode("ascii"),
            "test_type": self.test_type,
            "iat": int(self.issued_at.timestamp()),
            "exp": int(self.expires_at.timestamp()),
            "signature_hash": signature_hash(self.signature),
        }


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Issuer:
    """Issues negative-test certificates with the signers of one pool."""

    def __init__(
        self,
        config: IssuerConfig,
        *,
        pool: SignerPool,
        devices: DeviceRegistry,
        not_after: datetime,
        clock: Clock = _utc_now,
    ) -> None:
        self.config = config
        self.pool = pool
        self.devices = devices
        self.not_after = not_after
        self._clock = clock

    def validate(self, data: object) -> NegativeTestRequest:
        """Check a request against every rule; raise :class:`RequestInvalid` when it breaks one."""
        return validate_issue_request(
            data, now=self._clock(), devices=self.devices, policy=self.config.policy
        )

    def prepare(self, data: object) -> PreparedCertificate:
        """Validate and build the claims to sign (pure CPU work, no signer needed)."""
        request = self.validate(data)
        now = self._clock().replace(microsecond=0)
        if now >= self.not_after:
            raise KeyMaterialError(
                "the signing certificate (DSC) has expired: renew the keys",
                code="certificate_expired",
            )
        expires = min(
            request.sample_collected_at + self.config.validity_for(request.test_type),
            self.not_after,
        ).replace(microsecond=0)
        if expires <= now:
            raise RequestInvalid(
                [
                    FieldError(
                        "test.sample_collected_at",
                        "certificate_already_expired",
                        "the sample is too old: a certificate for it would already have expired",
                    )
                ]
            )
        uvci = generate_uvci(self.config.country)
        dcc = test_certificate(
            request, uvci=uvci, country=self.config.country, issuer_name=self.config.issuer_name
        )
        claims = encode_claims(
            dcc,
            iss=self.config.country,
            iat=int(now.timestamp()),
            exp=int(expires.timestamp()),
        )
        return PreparedCertificate(uvci, request.test_type, now, expires, dcc, claims)

    @staticmethod
    def sign(prepared: PreparedCertificate, signer: Signer) -> IssuedCertificate:
        """Wrap prepared claims in COSE_Sign1 with ``signer`` and encode them as ``HC1:``."""
        signatures: list[bytes] = []

        def sign(data: bytes) -> bytes:
            signatures.append(signer.sign(data))
            return signatures[-1]

        cose = encode_sign1(prepared.claims, alg=signer.alg, kid=signer.kid, sign=sign)
        return IssuedCertificate(
            uvci=prepared.uvci,
            hc1=encode_hc1(cose),
            kid=signer.kid,
            test_type=prepared.test_type,
            issued_at=prepared.issued_at,
            expires_at=prepared.expires_at,
            certificate=prepared.certificate,
            signature=signatures[0],
        )

    def issue(self, data: object, *, timeout: float | None = None) -> IssuedCertificate:
        """Issue one certificate from a thread (blocks at most ``timeout`` for a signer)."""
        prepared = self.prepare(data)
        with self.pool.acquire(timeout) as signer:
            return self.sign(prepared, signer)

    async def issue_async(self, data: object) -> IssuedCertificate:
        """Issue one certificate from the event loop."""
        prepared = self.prepare(data)
        async with self.pool.acquire_async() as signer:
            return self.sign(prepared, signer)

    def issue_batch(
        self,
        items: Sequence[object],
        *,
        progress: Callable[[int], None] | None = None,
    ) -> list[IssuedCertificate | DccError]:
        """Issue many; a bad item yields its error in place and never fails the others."""
        results: list[IssuedCertificate | DccError] = []
        for index, item in enumerate(items):
            try:
                results.append(self.issue(item))
            except DccError as error:
                results.append(error)
            if progress is not None:
                progress(index + 1)
        return results
