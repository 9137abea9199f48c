"""One business rule in the EU DCC Gateway's format (validation-rule.schema.json).

A :class:`Rule` holds what selection and evaluation need: the identifier
(``TR-LU-0002``), type (Acceptance/Invalidation), country (and region), semantic version,
certificate type (General, Test, Vaccination, Recovery), validity window, engine and its
version, the schema version it was written for, the descriptions by language and the
CertLogic expression.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, Literal

__all__ = ["CERTIFICATE_TYPES", "ENGINE", "Rule", "RuleType", "Version", "parse_version"]

ENGINE: Final = "CERTLOGIC"
RuleType = Literal["Acceptance", "Invalidation"]
CERTIFICATE_TYPES: Final = {"test": "Test", "vaccination": "Vaccination", "recovery": "Recovery"}
"""The verifier's DCC type → the rules' ``CertificateType`` (``General`` applies to all)."""

Version = tuple[int, int, int]


def parse_version(text: str) -> Version:
    """``"1.3.0"`` → ``(1, 3, 0)`` (the schema guarantees three integers)."""
    major, minor, patch = (int(part) for part in text.split("."))
    return (major, minor, patch)


@dataclass(frozen=True, slots=True)
class Rule:
    """A validated rule; ``source`` names the file it came from (for messages)."""

    identifier: str
    type: RuleType
    country: str
    region: str | None
    version: Version
    schema_version: Version
    engine: str
    engine_version: Version
    certificate_type: str
    descriptions: dict[str, str]
    valid_from: datetime
    valid_to: datetime
    affected_fields: tuple[str, ...]
    logic: Any = field(repr=False)
    source: str = field(default="", compare=False)

    @property
    def version_text(self) -> str:
        """The version as the rule file writes it."""
        return ".".join(str(part) for part in self.version)

    def description(self, language: str) -> str:
        """The description in ``language`` (``fr``, ``fr-be`` → ``fr``), else in English."""
        for candidate in (language.lower(), language.lower().split("-")[0], "en"):
            if candidate in self.descriptions:
                return self.descriptions[candidate]
        return next(iter(self.descriptions.values()))

    def applies_to(self, certificate_type: str) -> bool:
        """Whether the rule is about this DCC type (``test``, ``vaccination``, ...)."""
        wanted = CERTIFICATE_TYPES.get(certificate_type)
        return self.certificate_type in ("General", wanted)

    def valid_at(self, moment: datetime) -> bool:
        """Whether ``moment`` is inside the rule's validity window (both ends included)."""
        return self.valid_from <= moment <= self.valid_to
