"""The issue-request contract as the issuer consumes it: the policy and the validated request."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from issuer.request.rules import FREE_TEXT_MAX_LENGTH
from signing.errors import ConfigError

__all__ = ["NegativeTestRequest", "RequestPolicy"]


@dataclass(frozen=True, slots=True)
class RequestPolicy:
    """Limits a deployment may tune; the defaults follow the contract (docs/http-api.md)."""

    max_sample_age: timedelta = timedelta(hours=72)
    clock_skew: timedelta = timedelta(minutes=5)
    max_name_length: int = 80

    def __post_init__(self) -> None:
        if self.max_sample_age <= timedelta(0) or self.clock_skew < timedelta(0):
            raise ConfigError(
                "max_sample_age must be positive and clock_skew not negative", code="policy_invalid"
            )
        if not 1 <= self.max_name_length <= FREE_TEXT_MAX_LENGTH:
            raise ConfigError(
                f"max_name_length must be between 1 and {FREE_TEXT_MAX_LENGTH}",
                code="policy_invalid",
            )


@dataclass(frozen=True, slots=True)
class NegativeTestRequest:
    """A validated, normalised issue request: what the issuer turns into a certificate.

    Names are trimmed and NFC; each standardised form is the client's override or the ICAO
    9303 transliteration, None only when its name is absent. ``test_type`` and ``result``
    are the LOINC / SNOMED CT codes; ``sample_collected_at`` is UTC without fractions.
    """

    family_name: str | None
    given_name: str | None
    family_name_standardised: str | None
    given_name_standardised: str | None
    date_of_birth: str
    test_type: str
    device: str | None
    naat_name: str | None
    sample_collected_at: datetime
    result: str
    facility: str | None
