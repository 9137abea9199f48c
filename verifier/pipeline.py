"""The verification pipeline: HC1 text or QR image → ordered checks → report.

Policy choices (hcert.md §1.3, §7.1; hardening.md §4), decided with the EU vectors:

* COSE_Sign1 may be tagged 18, tagged 61 around 18 (CO28) or **untagged**: the ES vectors
  1501/1502 are untagged arrays that must verify. Other tags are refused.
* ``alg`` is read from the protected header, else from the unprotected one: CO20 (valid)
  has ``alg`` and ``kid`` only unprotected. This is safe because ``alg`` is never trusted
  on its own: it must be the one algorithm the certificate's key allows (P-256 → ES256,
  RSA ≥ 2048 → PS256), so an unprotected ``alg`` cannot change how a signature is checked.
  ``alg`` in both buckets, or a ``crit`` header, is refused.
* ``kid``: protected header first, else unprotected; no fallback when the protected one is
  wrong (CO21/CO22). Exactly 8 bytes. Up to 8 trusted certificates sharing it are tried.
* A protected header encoded as an empty map inside the byte string (``a0``) is accepted
  like the zero-length byte string: RFC 9052 allows both, and the signature covers the
  bytes exactly as received (they are never re-encoded).
* Expiry: ``iat`` ≤ now + 5 minutes (clock skew), now ≤ ``exp``, and ``exp`` ≥ ``iat``.
  The DSC's own validity period is not checked (optional in hcert.md §7.1).
* Revocation (hcert.md §7.1 step 9, after the key usage, before the business rules): only
  when revocation lists are given, and only once the signature verified (the hashes of an
  unverified certificate mean nothing). The certificate is revoked when its SIGNATURE hash
  (``r`` of ES256), its UCI hash or its COUNTRYCODEUCI hash is in a batch for its kid (or
  for ``UNKNOWN_KID``).
* The claims are decoded (strict, bounded CBOR) as part of ``cose``, before the signature
  check, but nothing in them decides anything until the signature has been checked; when
  it fails, ``expiry``, ``schema`` and ``rules`` still run for diagnosis, the payload is
  reported unverified and the report is invalid.

:func:`verify` never raises for bad input: every failure, even a bug, becomes a report.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final

from cryptography import x509

from hcert.base45 import b45decode
from hcert.claims import Claims, parse_claims
from hcert.hc1 import inflate, strip_prefix
from hcert.revocation import HASH_TYPES, revocation_hashes
from hcert.revocation_list import RevocationList
from hcert.valuesets import DeviceRegistry
from keys.kid import KID_LENGTH
from signing.algorithms import ALG_NAMES
from signing.cose import Sign1, parse_sign1, verify_sign1
from signing.errors import DccError, DecodeError, KeyMaterialError, SignatureError
from verifier.dates import format_instant
from verifier.destination import Destination, DestinationReport, check_destination
from verifier.report import (
    Check,
    CheckName,
    ReportError,
    VerificationReport,
    VerifiedPayload,
    passed_check,
)
from verifier.rules import CLOCK_SKEW, DEFAULT_PROFILE, RulesProfile, check_test_rules
from verifier.schema import dcc_type, validate_dcc
from verifier.source import InputData, input_text
from verifier.trust import TrustedCertificate, TrustStore

__all__ = ["verify"]

_LOG: Final = logging.getLogger(__name__)
_RAW_COSE_STARTS: Final = (b"\xd2", b"\xd8\x3d", b"\x84")
_MAX_REPORTED_KID_BYTES: Final = 64
_DETAIL_VIOLATIONS: Final = 5


class _Run:
    """One verification: runs the checks in order and collects what the report needs."""

    def __init__(
        self,
        store: TrustStore,
        now: datetime,
        profile: RulesProfile,
        devices: DeviceRegistry | None,
        destination: Destination | None = None,
        revocation: RevocationList | None = None,
    ) -> None:
        self.store, self.now, self.profile, self.devices = store, now, profile, devices
        self.destination = destination
        self.destination_report: DestinationReport | None = None
        self.revocation = revocation
        self.checks: list[Check] = []
        self.error: ReportError | None = None
        self.current: CheckName = "prefix"
        self.kid: str | None = None
        self.claims: Claims | None = None
        self.cert_type: str | None = None
        self.signer: TrustedCertificate | None = None
        self.hc1: str | None = None
        self.message: Sign1 | None = None

    # -- recording ---------------------------------------------------------------------

    def passed(self, name: CheckName, detail: str | None = None) -> None:
        self.checks.append(passed_check(name, detail))

    def failed(self, name: CheckName, code: str, message: str, detail: str | None = None) -> None:
        self.checks.append(Check(name, False, detail or message, code))
        if self.error is None:
            self.error = ReportError(name, code, message)

    def failed_with(self, name: CheckName, error: DccError) -> None:
        self.failed(name, error.code, error.message)

    def internal_error(self, exc: Exception) -> None:
        _LOG.error("internal error in verification check %s: %s", self.current, type(exc).__name__)
        self.checks = [check for check in self.checks if check.name != self.current]
        self.failed(self.current, "internal_error", f"the {self.current} check failed unexpectedly")

    def report(self) -> VerificationReport:
        claims = self.claims
        return VerificationReport(
            valid=self.error is None and self.signer is not None,
            checks=tuple(self.checks),
            error=self.error,
            kid=self.kid,
            issuer=claims.iss if claims else None,
            issued_at=format_instant(claims.issued_at) if claims else None,
            expires_at=format_instant(claims.expires_at) if claims else None,
            certificate=claims.dcc if claims else None,
            verified=self.signer is not None,
            cert_type=self.cert_type,
            payload=self._payload(),
            trust_list=self.signer.source if self.signer is not None else None,
            destination=self.destination_report,
        )

    def _payload(self) -> VerifiedPayload | None:
        claims, message = self.claims, self.message
        if self.signer is None or claims is None or message is None or self.hc1 is None:
            return None
        assert isinstance(message.kid, bytes)  # the kid check passed
        return VerifiedPayload(
            hc1=self.hc1,
            kid=message.kid,
            signature=message.signature,
            issuer=claims.iss,
            issued_at=claims.issued_at,
            expires_at=claims.expires_at,
            certificate=claims.dcc,
        )

    # -- the checks ------------------------------------------------------------------------

    def execute(self, data: object) -> None:
        message = self._decode(data)
        if message is None or self.claims is None:
            return
        candidates = self._kid(message)
        if candidates:
            self._signature(message, candidates)
        self._expiry(self.claims)
        schema_ok = self._schema(self.claims.dcc)
        if self.signer is not None and self.cert_type is not None:
            self._key_usage(self.signer, self.cert_type)
        if self.revocation is not None and self.signer is not None:
            self._revocation(self.revocation, message, self.claims)
        if self.destination is not None:
            if schema_ok and self.cert_type is not None:
                self._destination_rules(self.destination, self.claims, message)
        elif self.cert_type == "test" and schema_ok:
            self._rules(self.claims.dcc["t"][0])

    def _decode(self, data: object) -> Sign1 | None:
        """prefix → base45 → zlib → cose (COSE_Sign1 and CWT claims)."""
        try:
            self.hc1 = text = input_text(data)
            body = strip_prefix(text)
        except DecodeError as exc:
            self.failed_with("prefix", exc)
            return None
        self.passed("prefix")
        self.current = "base45"
        try:
            compressed = b45decode(body)
        except DecodeError as exc:
            self.failed_with("base45", exc)
            return None
        self.passed("base45")
        self.current = "zlib"
        try:
            cose = inflate(compressed)
        except DecodeError as exc:
            if exc.code == "zlib_invalid" and compressed.startswith(_RAW_COSE_STARTS):
                reason = "the data is not zlib-compressed (it looks like raw COSE)"
                self.failed("zlib", "zlib_missing", reason)
                return None
            self.failed_with("zlib", exc)
            return None
        self.passed("zlib")
        self.current = "cose"
        try:
            self.message = message = parse_sign1(cose)
            kid = message.kid
            if isinstance(kid, bytes) and len(kid) <= _MAX_REPORTED_KID_BYTES:
                self.kid = base64.b64encode(kid).decode("ascii")
            self.claims = claims = parse_claims(message.payload)
            self.cert_type = dcc_type(claims.dcc)
        except DecodeError as exc:
            self.failed_with("cose", exc)
            return None
        self.passed("cose")
        return message

    def _kid(self, message: Sign1) -> tuple[TrustedCertificate, ...]:
        self.current = "kid"
        kid = message.kid
        if kid is None:
            self.failed("kid", "kid_missing", "the COSE headers carry no kid")
        elif not isinstance(kid, bytes):
            self.failed("kid", "kid_invalid", "the kid is not a byte string")
        elif len(kid) != KID_LENGTH:
            self.failed("kid", "kid_length", f"the kid has {len(kid)} bytes, not {KID_LENGTH}")
        else:
            candidates = self.store.candidates(kid)
            if candidates:
                self.passed("kid")
                return candidates
            self.failed(
                "kid",
                "kid_unknown",
                "cannot check this issuer: no loaded trust list has this kid",
            )
        return ()

    def _signature(self, message: Sign1, candidates: Sequence[TrustedCertificate]) -> None:
        self.current = "signature"
        alg = message.alg
        if alg is None:
            self.failed("signature", "alg_missing", "the COSE headers carry no alg")
            return None
        if not isinstance(alg, int) or isinstance(alg, bool) or alg not in ALG_NAMES:
            self.failed("signature", "alg_unsupported", "the algorithm is neither ES256 nor PS256")
            return None
        errors: list[SignatureError] = []
        for candidate in candidates:
            if candidate.public_key is None:
                errors.append(
                    SignatureError("unsupported certificate key", code="key_type_unsupported")
                )
                continue
            try:
                verify_sign1(message, candidate.public_key)
            except SignatureError as exc:
                errors.append(exc)
            except (ValueError, TypeError):
                errors.append(SignatureError("signature does not verify"))
            else:
                self.signer = candidate
                self.passed("signature", ALG_NAMES[alg])
                return None
        codes = {error.code for error in errors}
        if len(codes) == 1:
            self.failed_with("signature", errors[0])
            return None
        self.failed(
            "signature",
            "signature_invalid",
            f"the signature verifies with none of the {len(candidates)} certificates of this kid",
        )

    def _expiry(self, claims: Claims) -> None:
        self.current = "expiry"
        iat, exp = claims.issued_at, claims.expires_at
        if exp < iat:
            message = (
                f"expires ({format_instant(exp)}) before it was issued ({format_instant(iat)})"
            )
            self.failed("expiry", "exp_before_iat", message)
        elif iat > self.now + CLOCK_SKEW:
            self.failed("expiry", "not_yet_valid", f"not valid before {format_instant(iat)}")
        elif self.now > exp:
            self.failed("expiry", "expired", f"expired at {format_instant(exp)}")
        else:
            self.passed("expiry")

    def _schema(self, dcc: dict[str, Any]) -> bool:
        self.current = "schema"
        violations = validate_dcc(dcc)
        if not violations:
            self.passed("schema")
            return True
        first = violations[0]
        more = f" (and {len(violations) - 1} more)" if len(violations) > 1 else ""
        detail = "; ".join(str(item) for item in violations[:_DETAIL_VIOLATIONS])
        self.failed("schema", first.code, f"{first}{more}", detail)
        return False

    def _key_usage(self, signer: TrustedCertificate, cert_type: str) -> None:
        self.current = "key_usage"
        try:
            allowed = signer.allowed_cert_types()
        except KeyMaterialError as exc:
            self.failed_with("key_usage", exc)
            return None
        if cert_type in allowed:
            self.passed("key_usage")
            return None
        self.failed(
            "key_usage",
            "key_usage_mismatch",
            f"the signing certificate may sign {', '.join(sorted(allowed))} certificates, "
            f"not {cert_type}",
        )

    def _revocation(self, revocation: RevocationList, message: Sign1, claims: Claims) -> None:
        self.current = "revocation"
        entries = claims.dcc.get("t") or claims.dcc.get("v") or claims.dcc.get("r")
        first = entries[0] if isinstance(entries, list) and entries else None
        uvci = first.get("ci") if isinstance(first, dict) else None
        types = HASH_TYPES if isinstance(uvci, str) and claims.iss else ("SIGNATURE",)
        hashes = revocation_hashes(
            message.signature, issuer=claims.iss or "", uvci=uvci if isinstance(uvci, str) else ""
        )
        found = revocation.match(self.kid or "", hashes, types=types)
        if found is None:
            self.passed("revocation")
        else:
            self.failed(
                "revocation",
                "revoked",
                f"the certificate was revoked by its issuer (its {found} hash is on the "
                "revocation list)",
            )

    def _rules(self, entry: dict[str, Any]) -> None:
        self.current = "rules"
        violation = check_test_rules(
            entry, now=self.now, profile=self.profile, devices=self.devices
        )
        if violation is None:
            self.passed("rules", f"profile {self.profile.name}")
        else:
            self.failed("rules", violation.code, violation.message)

    def _destination_rules(self, destination: Destination, claims: Claims, message: Sign1) -> None:
        """The destination's CertLogic rules (verifier.destination) as the ``rules`` check."""
        self.current = "rules"
        assert self.cert_type is not None  # the caller checked
        kid = message.kid if isinstance(message.kid, bytes) else None
        self.destination_report = found = check_destination(
            destination,
            payload=claims.dcc,
            certificate_type=self.cert_type,
            at=self.now,
            issued_at=claims.issued_at,
            expires_at=claims.expires_at,
            issuer_country=claims.iss,
            kid=kid,
            devices=self.devices,
        )
        violation = found.violation(self.cert_type)
        if violation is None:
            self.passed("rules", found.summary())
        else:
            self.failed("rules", violation.code, violation.message, found.summary())


def verify(
    data: InputData,
    *,
    trust: TrustStore | Sequence[x509.Certificate],
    now: datetime,
    profile: RulesProfile | None = None,
    devices: DeviceRegistry | None = None,
    destination: Destination | None = None,
    revocation: RevocationList | None = None,
) -> VerificationReport:
    """Verify an HC1 string (or the bytes of a QR image, or ASCII bytes of HC1 text).

    ``trust`` holds the accepted DSCs; ``now`` (timezone-aware) is the validation time;
    ``profile`` the business rules for test certificates (default ``LU_2021_07``);
    ``devices`` an optional RAT device registry. With a ``destination`` the ``rules`` check
    is that country's CertLogic rules at ``now`` (for every DCC type) instead of
    ``profile``, and the report gains ``destination``. ``revocation``: the revocation lists
    to check (no ``revocation`` check without them). Never raises for bad ``data``: every
    failure is in the report. Raises ``ValueError`` for a naive ``now`` (a caller bug).
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    store = trust if isinstance(trust, TrustStore) else TrustStore.from_certificates(trust)
    run = _Run(store, now, profile or DEFAULT_PROFILE, devices, destination, revocation)
    try:
        run.execute(data)
    except Exception as exc:  # last line of defence: a bug still yields a report
        run.internal_error(exc)
    return run.report()
