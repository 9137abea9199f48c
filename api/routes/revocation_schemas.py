"""OpenAPI models of the revocation routes (documentation only; bodies are read by
:mod:`api.revocation_requests`, answers built as dicts)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "AccountRevocationInput",
    "CertificateRevocationInput",
    "KeyRevocationInput",
    "RevocationBatch",
    "RevocationListDocument",
    "RevocationOutcome",
    "RevokedKeyModel",
]

OperatorReason = Literal["fraud", "key_compromise", "issued_in_error", "other"]


class CertificateRevocationInput(BaseModel):
    """Revoke one certificate."""

    model_config = ConfigDict(extra="forbid")
    uvci: str = Field(min_length=1, max_length=80)
    reason: OperatorReason


class AccountRevocationInput(BaseModel):
    """Revoke what an account (or one member) issued in [issued_from, issued_until)."""

    model_config = ConfigDict(extra="forbid")
    account_id: str = Field(min_length=1, max_length=80)
    member: str | None = Field(default=None, min_length=1, max_length=80)
    issued_from: str = Field(description="ISO 8601 date-time with offset (inclusive)")
    issued_until: str = Field(description="ISO 8601 date-time with offset (exclusive)")
    reason: OperatorReason


class KeyRevocationInput(BaseModel):
    """Revoke every certificate a DSC signed, and the DSC itself."""

    model_config = ConfigDict(extra="forbid")
    kid: str = Field(description="base64 of the 8-byte kid", min_length=12, max_length=12)
    reason: OperatorReason
    distrust_at: str | None = Field(
        default=None, description="when verifiers should drop the DSC (default: now)"
    )


class RevocationOutcome(BaseModel):
    """What one revocation did."""

    scope: Literal["certificate", "account", "key"]
    reason: str
    matched: int = Field(description="certificates of the register the request named")
    revoked: int = Field(description="certificates revoked by this request")
    already_revoked: int = Field(description="certificates revoked before (left as they were)")
    signing_key: bool | None = Field(
        default=None,
        description="scope key only: whether the revoked DSC was one of this deployment's; "
        "it then no longer signs (every replica within a second)",
    )


class RevokedKeyModel(BaseModel):
    """A revoked DSC; a trust list leaves it out from ``distrust_at``."""

    kid: str
    reason: str
    revoked_by: str
    revoked_at: str
    distrust_at: str
    distrusted: bool = Field(description="whether distrust_at has passed")


class RevocationEntry(BaseModel):
    hash: str = Field(description="base64 of the first 16 bytes of the SHA-256 (24 chars)")


class RevocationBatch(BaseModel):
    """One batch in the EU gateway's form."""

    batchId: str
    country: str
    expires: str
    kid: str
    hashType: Literal["SIGNATURE", "UCI", "COUNTRYCODEUCI"]
    entries: list[RevocationEntry]


class RevocationListDocument(BaseModel):
    """``GET /v1/revocation-list``."""

    country: str
    batches: list[RevocationBatch]
