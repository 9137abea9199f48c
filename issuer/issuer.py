"""The :class:`Issuer`: validated request → DCC payload → CWT → COSE_Sign1 → ``HC1:``.

It holds no request state: the UVCI comes from the OS CSPRNG, the time from an injectable
clock, the signature from the signer pool. Issuing is three steps, each its own method:
:meth:`Issuer.validate` (JSON → :class:`NegativeTestRequest`), :meth:`Issuer.prepare` (the
claims to sign) and signing, either :meth:`Issuer.try_sign` (a signer free now, or None) /
:meth:`Issuer.sign_async` (waits on the event loop), as the server's queue does, or all
three in :meth:`Issuer.issue` for threads (the CLI); batches are prepared, charged, then
signed (:meth:`Issuer.prepare_batch`, :meth:`Issuer.sign_batch`).
Signing inline is right: an ES256 signature costs less than a thread hand-off
(performance.md). A signer slot is held for the signature only: the claims are built
before, zlib and base45 run after.

Hot path (BENCHMARKS.md, bench 1): whatever depends only on the configuration is computed
at construction (UVCI generator, validity per test type); times are turned into integers
once; the DCC maps are built in canonical CBOR key order so the claims need a plain
``cbor2.dumps``; the pool's fast path is taken without a context manager; the result
objects are plain (non-frozen) slots dataclasses, cheaper to build.
"""

from __future__ import annotations

import base64
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from hcert.claims import encode_canonical_claims
from hcert.hc1 import encode_hc1
from hcert.revocation import RevocationHashes, revocation_hashes
from hcert.valuesets import TEST_TYPE_NAAT, TEST_TYPE_RAT, DeviceRegistry
from issuer.payload import test_certificate
from issuer.request import NegativeTestRequest, RequestPolicy, validate_issue_request
from issuer.uvci import UvciGenerator
from signing.cose import encode_sign1_signed
from signing.errors import DccError, FieldError, KeyMaterialError, RequestInvalid
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


@dataclass(slots=True)
class PreparedCertificate:
    """Everything of a certificate but its signature (not frozen: ~1 µs cheaper to build)."""

    uvci: str
    test_type: str
    issued_at: datetime
    expires_at: datetime
    certificate: dict[str, Any]
    claims: bytes


@dataclass(slots=True)
class IssuedCertificate:
    """A signed certificate and what the issuer keeps of it (no personal data in ``audit``).

    Not frozen (a frozen dataclass pays ``object.__setattr__`` per field, ~1.5 µs per
    certificate); treat it as read-only all the same.
    """

    uvci: str
    hc1: str
    kid: bytes
    test_type: str
    issued_at: datetime
    expires_at: datetime
    certificate: dict[str, Any]
    signature: bytes

    def to_response(self) -> dict[str, Any]:
        """The issue response of docs/http-api.md."""
        return {
            "uvci": self.uvci,
            "hc1": self.hc1,
            "kid": _b64(self.kid),
            "issued_at": _iso(self.issued_at),
            "expires_at": _iso(self.expires_at),
            "certificate": self.certificate,
        }

    def revocation_hashes(self) -> RevocationHashes:
        """Its SIGNATURE, UCI and COUNTRYCODEUCI hashes (hcert §8; ``iss`` is ``co`` here)."""
        entry = self.certificate["t"][0]
        return revocation_hashes(self.signature, issuer=str(entry["co"]), uvci=self.uvci)

    def audit(self) -> dict[str, Any]:
        """The audit record: identifiers, times and the revocation hashes (hcert §8).

        Never a name or a date of birth.
        """
        hashes = self.revocation_hashes()
        return {
            "uvci": self.uvci,
            "kid": _b64(self.kid),
            "test_type": self.test_type,
            "iat": int(self.issued_at.timestamp()),
            "exp": int(self.expires_at.timestamp()),
            "signature_hash": hashes.signature,
            "uci_hash": hashes.uci,
            "country_uci_hash": hashes.country_uci,
        }


@functools.lru_cache(maxsize=64)
def _iso(moment: datetime) -> str:
    """``YYYY-MM-DDThh:mm:ssZ`` (``isoformat`` of the UTC time: ~4x cheaper than strftime;
    remembered, since the certificates of one second share their times)."""
    if moment.utcoffset() != _ZERO:
        moment = moment.astimezone(UTC)
    return moment.replace(tzinfo=None).isoformat(timespec="seconds") + "Z"


_ZERO: Final = timedelta(0)


@functools.lru_cache(maxsize=16)
def _b64(kid: bytes) -> str:
    """The base64 text of a kid (a handful per process: cached)."""
    return base64.b64encode(kid).decode("ascii")


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
        self.clock = clock
        self._clock = clock
        self._uvci = UvciGenerator(config.country)  # raises ConfigError for a bad country
        self._validity = dict(config.validity)

    def validate(self, data: object) -> NegativeTestRequest:
        """Check a request against every rule; raise :class:`RequestInvalid` when it breaks one."""
        return validate_issue_request(
            data, now=self._clock(), devices=self.devices, policy=self.config.policy
        )

    def prepare(self, request: NegativeTestRequest) -> PreparedCertificate:
        """Build the claims to sign for a validated request (pure CPU work, no signer)."""
        issued_at = self._clock().replace(microsecond=0)
        if issued_at >= self.not_after:
            raise KeyMaterialError(
                "the signing certificate (DSC) has expired: renew the keys",
                code="certificate_expired",
            )
        expires_at = request.sample_collected_at + self._validity[request.test_type]
        if expires_at > self.not_after:
            expires_at = self.not_after
        if expires_at.microsecond:
            expires_at = expires_at.replace(microsecond=0)
        if expires_at <= issued_at:
            raise RequestInvalid(
                [
                    FieldError(
                        "test.sample_collected_at",
                        "certificate_already_expired",
                        "the sample is too old: a certificate for it would already have expired",
                    )
                ]
            )
        config = self.config
        uvci = self._uvci()
        dcc = test_certificate(
            request, uvci=uvci, country=config.country, issuer_name=config.issuer_name
        )
        claims = encode_canonical_claims(
            dcc,
            iss=config.country,
            iat=int(issued_at.timestamp()),
            exp=int(expires_at.timestamp()),
        )
        return PreparedCertificate(uvci, request.test_type, issued_at, expires_at, dcc, claims)

    def try_sign(self, prepared: PreparedCertificate) -> IssuedCertificate | None:
        """Sign prepared claims with a signer free right now; None when none is (never waits).

        The signer is held only while signing, not while the HC1 text is encoded.
        """
        pool = self.pool
        signer = pool.try_acquire()
        if signer is None:
            return None
        try:
            signed = _sign_claims(prepared, signer)
        finally:
            pool.release(signer)
        return _issued(prepared, signer.kid, *signed)

    async def sign_async(self, prepared: PreparedCertificate) -> IssuedCertificate:
        """Sign prepared claims from the event loop (waits for a signer without blocking it)."""
        issued = self.try_sign(prepared)
        if issued is None:
            async with self.pool.acquire_async() as signer:
                signed = _sign_claims(prepared, signer)
            issued = _issued(prepared, signer.kid, *signed)
        return issued

    def issue(self, data: object, *, timeout: float | None = None) -> IssuedCertificate:
        """Validate, prepare and sign one certificate from a thread (the CLI, batch workers).

        Blocks at most ``timeout`` for a signer (the pool's default when None).
        """
        return self._sign_waiting(self.prepare(self.validate(data)), timeout)

    def prepare_batch(self, items: Sequence[object]) -> list[PreparedCertificate | DccError]:
        """Validate and prepare each item; a bad item yields its error in place."""
        results: list[PreparedCertificate | DccError] = []
        for item in items:
            try:
                results.append(self.prepare(self.validate(item)))
            except DccError as error:
                results.append(error)
        return results

    def sign_batch(
        self,
        prepared: Sequence[PreparedCertificate | DccError],
        *,
        timeout: float | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> list[IssuedCertificate | DccError]:
        """Sign every prepared item from a thread (errors stay in place, never fail others)."""
        results: list[IssuedCertificate | DccError] = []
        for index, item in enumerate(prepared):
            if isinstance(item, DccError):
                results.append(item)
            else:
                try:
                    results.append(self._sign_waiting(item, timeout))
                except DccError as error:
                    results.append(error)
            if progress is not None:
                progress(index + 1)
        return results

    def _sign_waiting(
        self, prepared: PreparedCertificate, timeout: float | None
    ) -> IssuedCertificate:
        issued = self.try_sign(prepared)
        if issued is None:
            with self.pool.acquire(timeout) as signer:
                signed = _sign_claims(prepared, signer)
            issued = _issued(prepared, signer.kid, *signed)
        return issued


def _sign_claims(prepared: PreparedCertificate, signer: Signer) -> tuple[bytes, bytes]:
    """(COSE_Sign1 message, signature) of ``prepared``'s claims."""
    return encode_sign1_signed(prepared.claims, alg=signer.alg, kid=signer.kid, sign=signer.sign)


def _issued(
    prepared: PreparedCertificate, kid: bytes, cose: bytes, signature: bytes
) -> IssuedCertificate:
    """The issued certificate of ``prepared``, signed into ``cose`` (zlib + base45 here)."""
    return IssuedCertificate(
        uvci=prepared.uvci,
        hc1=encode_hc1(cose),
        kid=kid,
        test_type=prepared.test_type,
        issued_at=prepared.issued_at,
        expires_at=prepared.expires_at,
        certificate=prepared.certificate,
        signature=signature,
    )
