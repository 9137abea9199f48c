"""Which rules apply, and what each one says: rule selection and evaluation as the EU DCC
verifier apps do it.

Selection (:meth:`RuleSet.select`), for an arrival country, a DCC type and the validation
clock:

* the arrival country's **Acceptance** rules and the issuing country's **Invalidation**
  rules (the ``iss`` claim), of the DCC's certificate type or ``General``; a rule with a
  ``Region`` applies only when that region is asked for;
* only rules whose validity window (``ValidFrom`` ≤ clock ≤ ``ValidTo``) holds the clock;
* of those, the highest ``Version`` per ``Identifier``.

Evaluation (:func:`evaluate_rules`): each rule's ``Logic`` on ``{"payload": DCC,
"external": parameters}`` (:func:`external_parameters`). ``true`` passes, ``false`` fails;
the rule is **open** (undecided) when its value is neither, when evaluating it raises,
when its ``Engine`` is not CERTLOGIC or its ``EngineVersion`` is newer than 1.x, or when its
``SchemaVersion`` has another major version than the DCC's ``ver``.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, Literal

from hcert.valuesets import PACKAGED_VALUE_SETS, packaged_value_set
from verifier.certlogic import CertLogicError, evaluate
from verifier.destination.rule import ENGINE, Rule

__all__ = [
    "RuleOutcome",
    "RuleResult",
    "RuleSet",
    "evaluate_rules",
    "external_parameters",
    "packaged_value_sets",
]

RuleOutcome = Literal["pass", "fail", "open"]
_SUPPORTED_ENGINE_MAJOR: Final = 1


@dataclass(frozen=True, slots=True)
class RuleResult:
    """One rule's outcome; ``reason`` says why a rule is open."""

    rule: Rule
    outcome: RuleOutcome
    reason: str | None = None

    def to_dict(self, language: str) -> dict[str, Any]:
        """The report's form (docs/verification-report.md "Destination rules")."""
        rule = self.rule
        out: dict[str, Any] = {
            "id": rule.identifier,
            "version": rule.version_text,
            "type": rule.type,
            "country": rule.country,
            "certificate_type": rule.certificate_type,
            "description": rule.description(language),
            "affected_fields": list(rule.affected_fields),
            "result": self.outcome,
        }
        if self.reason is not None:
            out["reason"] = self.reason
        return out


@dataclass(frozen=True, slots=True)
class RuleSet:
    """The loaded rules of every country (see :mod:`verifier.destination.load`)."""

    rules: tuple[Rule, ...]

    @property
    def countries(self) -> list[str]:
        """The countries that have at least one Acceptance rule, sorted."""
        return sorted({rule.country for rule in self.rules if rule.type == "Acceptance"})

    def select(
        self,
        *,
        country: str,
        certificate_type: str,
        at: datetime,
        issuer_country: str | None = None,
        region: str | None = None,
    ) -> list[Rule]:
        """The rules that apply (module docstring), sorted by identifier."""
        latest: dict[str, Rule] = {}
        for rule in self.rules:
            owner = country if rule.type == "Acceptance" else issuer_country
            if (
                rule.country != owner
                or (rule.region is not None and rule.region != region)
                or not rule.applies_to(certificate_type)
                or not rule.valid_at(at)
            ):
                continue
            kept = latest.get(rule.identifier)
            if kept is None or rule.version >= kept.version:
                latest[rule.identifier] = rule
        return [latest[identifier] for identifier in sorted(latest)]


def packaged_value_sets() -> dict[str, list[str]]:
    """``valueSetId`` → its codes, for every value set this package ships."""
    return {name: sorted(packaged_value_set(name)) for name in PACKAGED_VALUE_SETS}


def _instant(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def external_parameters(
    *,
    validation_clock: datetime,
    country: str,
    value_sets: Mapping[str, Sequence[str]],
    issued_at: datetime,
    expires_at: datetime,
    issuer_country: str | None,
    kid: bytes | None,
    region: str | None = None,
) -> dict[str, Any]:
    """The ``external`` object of the CertLogic data, as the EU business rules expect it:
    ``validationClock``, ``valueSets``, ``countryCode`` (arrival), ``exp``, ``iat``,
    ``issuerCountryCode``, ``kid`` (base64) and ``region``; times as ISO 8601 in UTC."""
    return {
        "validationClock": _instant(validation_clock),
        "valueSets": {name: list(codes) for name, codes in value_sets.items()},
        "countryCode": country,
        "exp": _instant(expires_at),
        "iat": _instant(issued_at),
        "issuerCountryCode": issuer_country or "",
        "kid": base64.b64encode(kid).decode("ascii") if kid is not None else "",
        "region": region or "",
    }


def _major(text: object) -> int | None:
    if not isinstance(text, str):
        return None
    head = text.split(".")[0]
    return int(head) if head.isdigit() else None


def _not_applicable(rule: Rule, payload: Mapping[str, Any]) -> str | None:
    if rule.engine != ENGINE:
        return f"engine {rule.engine} is not supported"
    if rule.engine_version[0] > _SUPPORTED_ENGINE_MAJOR:
        return f"CertLogic {rule.engine_version[0]}.x is newer than this engine (1.x)"
    if _major(payload.get("ver")) != rule.schema_version[0]:
        return "the rule is written for another major version of the DCC schema"
    return None


def _evaluate(rule: Rule, data: dict[str, Any]) -> RuleResult:
    reason = _not_applicable(rule, data["payload"])
    if reason is not None:
        return RuleResult(rule, "open", reason)
    try:
        value = evaluate(rule.logic, data)
    except CertLogicError as exc:
        return RuleResult(rule, "open", f"cannot be evaluated: {exc.message}")
    if value is True:
        return RuleResult(rule, "pass")
    if value is False:
        return RuleResult(rule, "fail")
    return RuleResult(rule, "open", "the rule's value is neither true nor false")


def evaluate_rules(
    rules: Iterable[Rule], payload: Mapping[str, Any], external: Mapping[str, Any]
) -> list[RuleResult]:
    """Every rule's result on the DCC ``payload`` with the ``external`` parameters."""
    data = {"payload": dict(payload), "external": dict(external)}
    return [_evaluate(rule, data) for rule in rules]
