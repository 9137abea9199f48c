"""The destination check: a traveller's arrival country (and language), and what its rules
say about one certificate at the validation time.

:func:`read_destination` turns request values (API body or form, CLI options) into a
:class:`Destination` and a validation time, refusing bad ones with
:class:`signing.errors.RequestInvalid` (codes ``country_invalid``, ``at_invalid``,
``lang_invalid``). :func:`check_destination` selects the rules and evaluates them
(:mod:`verifier.destination.engine`); the :class:`DestinationReport` it returns is the
report's ``destination`` member (docs/verification-report.md).

The outcome: **pass** when at least one rule applies and every rule passes; **fail** when
any rule fails; otherwise **open** (a rule undecided, or no rule of that country applies to
this certificate at that time: "cannot tell", never "accepted").
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from hcert.valuesets import DEVICE_VALUESET_ID, DeviceRegistry
from signing.errors import FieldError, RequestInvalid
from verifier.dates import format_instant
from verifier.destination.engine import (
    RuleOutcome,
    RuleResult,
    RuleSet,
    evaluate_rules,
    external_parameters,
    packaged_value_sets,
)
from verifier.destination.load import load_rules, packaged_rules
from verifier.rules import RuleViolation

__all__ = [
    "LANGUAGES",
    "Destination",
    "DestinationReport",
    "check_destination",
    "default_rule_set",
    "load_rule_set",
    "read_destination",
]

LANGUAGES: Final = frozenset({"en", "fr", "de", "es", "it", "nl", "pt", "pl"})
"""Languages a description may be asked in (a rule without one falls back to English)."""
_COUNTRY: Final = re.compile(r"[A-Z]{2}", re.ASCII)
_MAX_AT_CHARS: Final = 40


@functools.cache
def default_rule_set() -> RuleSet:
    """The packaged rules alone (Luxembourg's)."""
    return RuleSet(packaged_rules())


def load_rule_set(folders: Iterable[Path]) -> RuleSet:
    """The packaged rules plus every rule file under ``folders`` (``DCC_RULES_DIR``)."""
    return RuleSet((*packaged_rules(), *load_rules(folders)))


@functools.cache
def _value_sets() -> Mapping[str, Sequence[str]]:
    return packaged_value_sets()


def _value_sets_with(devices: DeviceRegistry | None) -> Mapping[str, Sequence[str]]:
    if devices is None or not devices.configured:
        return _value_sets()
    return {**_value_sets(), DEVICE_VALUESET_ID: [device.id for device in devices.devices()]}


@dataclass(frozen=True, slots=True)
class Destination:
    """Where the certificate is to be accepted: an ISO 3166-1 alpha-2 ``country``, the
    ``language`` of the rule descriptions, an optional ``region``, and the ``rules`` to
    choose from (default: the packaged ones)."""

    country: str
    language: str = "en"
    region: str | None = None
    rules: RuleSet = field(default_factory=default_rule_set, repr=False)


@dataclass(frozen=True, slots=True)
class DestinationReport:
    """Each applicable rule's result for one destination at one validation time."""

    country: str
    at: datetime
    language: str
    results: tuple[RuleResult, ...]

    @property
    def outcome(self) -> RuleOutcome:
        """pass / fail / open, as the module docstring says."""
        outcomes = {result.outcome for result in self.results}
        if "fail" in outcomes:
            return "fail"
        return "pass" if outcomes == {"pass"} else "open"

    def violation(self, certificate_type: str) -> RuleViolation | None:
        """Why the ``rules`` check fails (English), or None when the outcome is pass."""
        failed = [result.rule for result in self.results if result.outcome == "fail"]
        undecided = [result.rule.identifier for result in self.results if result.outcome == "open"]
        if failed:
            first = failed[0]
            return RuleViolation("rule_failed", f"{first.identifier}: {first.description('en')}")
        if undecided:
            message = f"{self.country}: cannot decide rule {', '.join(undecided)}"
            return RuleViolation("rule_open", message)
        if not self.results:
            when = format_instant(self.at)
            message = (
                f"no {self.country} rule for {certificate_type} certificates is loaded for {when}"
            )
            return RuleViolation("rules_unavailable", message)
        return None

    def summary(self) -> str:
        """The ``rules`` check's detail: ``LU: 4 rules passed`` or the failed/open rules."""
        if self.outcome == "pass":
            return f"{self.country}: {len(self.results)} rules passed"
        parts = []
        for outcome, label in (("fail", "failed"), ("open", "open")):
            ids = [r.rule.identifier for r in self.results if r.outcome == outcome]
            if ids:
                parts.append(f"{label} {', '.join(ids)}")
        return f"{self.country}: {'; '.join(parts) or 'no rule applies'}"

    def to_dict(self) -> dict[str, Any]:
        """``{"country", "at", "language", "result", "rules": [...]}``."""
        return {
            "country": self.country,
            "at": self.at.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
            "language": self.language,
            "result": self.outcome,
            "rules": [result.to_dict(self.language) for result in self.results],
        }


def check_destination(
    destination: Destination,
    *,
    payload: Mapping[str, Any],
    certificate_type: str,
    at: datetime,
    issued_at: datetime,
    expires_at: datetime,
    issuer_country: str | None,
    kid: bytes | None,
    devices: DeviceRegistry | None = None,
) -> DestinationReport:
    """Select ``destination``'s rules for this certificate at ``at`` and evaluate them.

    ``external.valueSets`` holds the value sets this package ships; a configured
    ``devices`` list (``DCC_VALUESETS_FILE``) replaces the packaged RAT device value set.
    """
    rules = destination.rules.select(
        country=destination.country,
        certificate_type=certificate_type,
        at=at,
        issuer_country=issuer_country,
        region=destination.region,
    )
    external = external_parameters(
        validation_clock=at,
        country=destination.country,
        value_sets=_value_sets_with(devices),
        issued_at=issued_at,
        expires_at=expires_at,
        issuer_country=issuer_country,
        kid=kid,
        region=destination.region,
    )
    results = evaluate_rules(rules, payload, external)
    return DestinationReport(destination.country, at, destination.language, tuple(results))


def _at(value: object) -> datetime | FieldError:
    message = "must be an ISO 8601 date-time, such as 2021-07-20T10:00:00Z"
    if not isinstance(value, str) or len(value) > _MAX_AT_CHARS:
        return FieldError("at", "at_invalid", message)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return FieldError("at", "at_invalid", message)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def read_destination(
    country: object, at: object, language: object = None, *, rules: RuleSet | None = None
) -> tuple[Destination | None, datetime | None]:
    """The destination and validation time a request asks for (each None when absent).

    ``country``: two capital letters (``"IT"``); ``at``: an ISO 8601 date-time, UTC when
    it has no offset; ``language``: one of :data:`LANGUAGES` (default ``en``). Raises
    :class:`RequestInvalid` listing every bad value.
    """
    errors: list[FieldError] = []
    moment: datetime | None = None
    if at is not None:
        found = _at(at)
        if isinstance(found, FieldError):
            errors.append(found)
        else:
            moment = found
    if language is not None and (not isinstance(language, str) or language not in LANGUAGES):
        message = f"must be one of {', '.join(sorted(LANGUAGES))}"
        errors.append(FieldError("lang", "lang_invalid", message))
    destination: Destination | None = None
    if country is not None:
        if not isinstance(country, str) or not _COUNTRY.fullmatch(country):
            message = "must be an ISO 3166-1 alpha-2 country code, such as IT"
            errors.append(FieldError("country", "country_invalid", message))
        else:
            lang = language if isinstance(language, str) else "en"
            destination = Destination(country, lang, rules=rules or default_rule_set())
    if errors:
        raise RequestInvalid(errors, "invalid destination: " + "; ".join(e.field for e in errors))
    return destination, moment
