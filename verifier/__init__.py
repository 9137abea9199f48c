"""Verification of EU DCC ``HC1:`` certificates: ordered checks, trust store, rules, report.

Use :func:`verify` with a :class:`TrustStore` (or a list of DSC certificates) and the
validation time; it returns a :class:`VerificationReport` whose ``to_dict()`` is the JSON
report of docs/verification-report.md. See :mod:`verifier.report` for the checks and their
error codes, :mod:`verifier.pipeline` for the policy choices.
"""

from __future__ import annotations

from hcert.revocation_list import RevocationList
from verifier.pipeline import verify
from verifier.report import CHECK_NAMES, Check, CheckName, ReportError, VerificationReport
from verifier.revocation import load_revocation_lists
from verifier.rules import (
    DEFAULT_PROFILE,
    LU_2021_07,
    LU_2021_12,
    PROFILES,
    RulesProfile,
    profile_by_name,
)
from verifier.schema import SchemaViolation, validate_dcc
from verifier.trust import MAX_CANDIDATES_PER_KID, TrustStore

__all__ = [
    "CHECK_NAMES",
    "DEFAULT_PROFILE",
    "LU_2021_07",
    "LU_2021_12",
    "MAX_CANDIDATES_PER_KID",
    "PROFILES",
    "Check",
    "CheckName",
    "ReportError",
    "RevocationList",
    "RulesProfile",
    "SchemaViolation",
    "TrustStore",
    "VerificationReport",
    "load_revocation_lists",
    "profile_by_name",
    "validate_dcc",
    "verify",
]
