"""The verification report: which checks ran, in which order, and how they ended.

Check names are a fixed vocabulary, always reported in this order
(docs/verification-report.md), and a check that cannot run because an earlier one failed is
left out:

``prefix`` → ``base45`` → ``zlib`` → ``cose`` → ``kid`` → ``signature`` → ``expiry`` →
``schema`` → ``key_usage`` → ``revocation`` (when revocation lists are given) → ``rules``
(test certificates only).

After a failed ``kid`` or ``signature`` check, ``expiry``, ``schema`` and ``rules`` still run
for diagnosis; the certificate is then reported with ``"verified": false`` and ``valid``
stays false. ``key_usage`` needs the certificate that verified the signature and the DCC
type (exactly one of v/t/r); ``rules`` need a test payload that passed ``schema``.

The verdict (``verdict``): ``valid``; ``issuer_unknown`` ("cannot check this issuer")
when the only failure is ``kid_unknown``, so nothing says the certificate is forged, only
that no loaded trust list covers its issuer; else ``invalid``.

Error codes (``error.code``; stable, part of the public contract):

=========== =====================================================================
check       codes
=========== =====================================================================
prefix      ``input_empty``, ``input_too_long`` (more than a QR code can carry),
            ``input_invalid`` (not text, non-ASCII, control characters such as NUL
            or a trailing newline), ``prefix_invalid`` (not ``HC1:``);
            for image input: ``image_invalid``, ``image_too_large``,
            ``qr_not_found`` (no HC1 text exists, so the first check fails)
base45      ``base45_length``, ``base45_alphabet``, ``base45_overflow``
zlib        ``zlib_missing`` (raw COSE, not compressed), ``zlib_invalid``,
            ``zlib_truncated``, ``zlib_trailing_bytes``, ``zlib_too_large``
cose        ``cbor_invalid``, ``cbor_trailing_bytes``, ``cose_tag_unsupported``,
            ``cose_structure``, ``cose_payload_missing``, ``cose_header_invalid``,
            ``cose_crit``, ``cose_header_conflict``, ``claims_invalid`` (payload not a
            map), ``claim_iss_invalid``, ``claim_iat_invalid``, ``claim_exp_invalid``,
            ``hcert_missing`` (no ``-260``/``1``), ``dcc_invalid`` (DCC not a map of
            JSON-like values)
kid         ``kid_missing``, ``kid_invalid`` (not a byte string), ``kid_length``
            (not 8 bytes), ``kid_unknown`` (no loaded trust list has it: verdict
            issuer_unknown when nothing else failed, never a forgery)
signature   ``alg_missing``, ``alg_unsupported`` (not ES256/PS256),
            ``alg_key_mismatch``, ``key_curve_unsupported``, ``key_size_unsupported``,
            ``key_type_unsupported``, ``signature_malformed``, ``signature_invalid``
expiry      ``expired``, ``not_yet_valid``, ``exp_before_iat``
schema      ``schema_wrong_type``, ``schema_missing_field``, ``schema_pattern``,
            ``schema_too_long``, ``schema_date_format``, ``schema_value``,
            ``schema_group`` (not exactly one of v/t/r), ``schema_entry_count``
key_usage   ``key_usage_mismatch``, ``certificate_eku_invalid``
revocation  ``revoked`` (a hash of the certificate is on a revocation list)
rules       ``test_type_unknown``, ``test_result_not_negative``, ``sample_in_future``,
            ``test_too_old``, ``rat_device_missing``, ``rat_device_unknown``,
            ``rat_device_inactive``; with a destination: ``rule_failed``,
            ``rule_open``, ``rules_unavailable``
(any)       ``internal_error``: a bug; reported, never raised
=========== =====================================================================

Messages and details never hold names or dates of birth. The JSON form passes the DCC through
:func:`verifier.json_safe.json_safe`: an integer beyond what JSON readers hold exactly
(±(2^53−1)) is written as its decimal text, so every report can be encoded.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final, Literal, get_args

from verifier.json_safe import json_safe
from verifier.trust import TrustListInfo

if TYPE_CHECKING:
    from verifier.destination import DestinationReport

__all__ = [
    "CHECK_NAMES",
    "VERDICTS",
    "Check",
    "CheckName",
    "ReportError",
    "VerificationReport",
    "VerifiedPayload",
    "passed_check",
]

CheckName = Literal[
    "prefix",
    "base45",
    "zlib",
    "cose",
    "kid",
    "signature",
    "expiry",
    "schema",
    "key_usage",
    "revocation",
    "rules",
]

CHECK_NAMES: Final[tuple[CheckName, ...]] = get_args(CheckName)
"""Every check, in the order the pipeline runs them."""

Verdict = Literal["valid", "invalid", "issuer_unknown"]
VERDICTS: Final[tuple[Verdict, ...]] = get_args(Verdict)
"""The verdicts a report can have (docs/verification-report.md)."""


@dataclass(frozen=True, slots=True)
class Check:
    """One check that ran: its name, whether it passed, an optional detail, and the error
    code of a failed check."""

    name: CheckName
    ok: bool
    detail: str | None = None
    code: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """``{"name", "ok"}`` plus ``"detail"`` and ``"code"`` when there are."""
        out: dict[str, Any] = {"name": self.name, "ok": self.ok}
        if self.detail is not None:
            out["detail"] = self.detail
        if self.code is not None:
            out["code"] = self.code
        return out


@functools.lru_cache(maxsize=64)
def passed_check(name: CheckName, detail: str | None = None) -> Check:
    """``Check(name, True, detail)``, shared: a check is immutable, and the pipeline records
    the same few passed checks in every report."""
    return Check(name, True, detail)


@dataclass(frozen=True, slots=True)
class ReportError:
    """The first failed check: its name, a stable code and an English message."""

    check: CheckName
    code: str
    message: str

    def to_dict(self) -> dict[str, str]:
        """``{"check", "code", "message"}``."""
        return {"check": self.check, "code": self.code, "message": self.message}


@dataclass(frozen=True, slots=True)
class VerifiedPayload:
    """What a trusted signature covers, as typed values (for callers, not for the JSON).

    Set on a report only when the signature verified: the HC1 text, the kid and the COSE
    signature as bytes, the times as aware datetimes, and the DCC payload.
    """

    hc1: str
    kid: bytes
    signature: bytes
    issuer: str | None
    issued_at: datetime
    expires_at: datetime
    certificate: dict[str, Any]


@dataclass(frozen=True, slots=True)
class VerificationReport:
    """The outcome of :func:`verifier.verify`; :meth:`to_dict` is its JSON (docs/ report).

    ``certificate`` is the DCC payload when it could be decoded; ``verified`` tells whether
    a trusted signature covers it (when False, ``to_dict`` adds ``"verified": false``).
    ``kid``, ``issuer``, ``issued_at`` and ``expires_at`` are None when unknown.
    ``payload`` holds the signed content as typed values once the signature verified.
    """

    valid: bool
    checks: tuple[Check, ...]
    error: ReportError | None = None
    kid: str | None = None
    issuer: str | None = None
    issued_at: str | None = None
    expires_at: str | None = None
    certificate: dict[str, Any] | None = None
    verified: bool = False
    cert_type: str | None = field(default=None, compare=False)
    payload: VerifiedPayload | None = field(default=None, compare=False, repr=False)
    trust_list: TrustListInfo | None = None

    @property
    def verdict(self) -> Verdict:
        """``valid``, ``issuer_unknown`` (only ``kid_unknown`` failed) or ``invalid``."""
        if self.valid:
            return "valid"
        failed = [item for item in self.checks if not item.ok]
        if [item.code for item in failed] == ["kid_unknown"]:
            return "issuer_unknown"
        return "invalid"

    destination: DestinationReport | None = field(default=None, compare=False)

    def check(self, name: CheckName) -> Check | None:
        """The check called ``name``, or None when it did not run."""
        for item in self.checks:
            if item.name == name:
                return item
        return None

    def to_dict(self) -> dict[str, Any]:
        """The JSON report of docs/verification-report.md ("Verification report")."""
        out: dict[str, Any] = {
            "valid": self.valid,
            "verdict": self.verdict,
            "checks": [item.to_dict() for item in self.checks],
            "error": self.error.to_dict() if self.error is not None else None,
            "kid": self.kid,
            "issuer": json_safe(self.issuer),
            "issued_at": self.issued_at,
            "expires_at": self.expires_at,
        }
        if self.certificate is not None:
            out["certificate"] = json_safe(self.certificate)
            if not self.verified:
                out["verified"] = False
        if self.trust_list is not None:
            out["trust_list"] = self.trust_list.to_dict()
        if self.destination is not None:
            out["destination"] = self.destination.to_dict()
        return out
