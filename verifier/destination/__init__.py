"""Destination rules: the EU DCC business rules (CertLogic) of an arrival country.

Rules come from files in the EU DCC Gateway's format (:mod:`.load`): Luxembourg's
published rules ship as package data; an operator adds other countries' files
(``DCC_RULES_DIR``). :mod:`.engine` selects and evaluates them as the EU verifier apps do;
:mod:`.check` is what the verification pipeline calls for a chosen country and date.
"""

from __future__ import annotations

from verifier.destination.check import (
    LANGUAGES,
    Destination,
    DestinationReport,
    check_destination,
    default_rule_set,
    load_rule_set,
    read_destination,
)
from verifier.destination.engine import RuleOutcome, RuleResult, RuleSet
from verifier.destination.load import PACKAGED_RULES_DIR, load_rule_file, load_rules
from verifier.destination.rule import Rule

__all__ = [
    "LANGUAGES",
    "PACKAGED_RULES_DIR",
    "Destination",
    "DestinationReport",
    "Rule",
    "RuleOutcome",
    "RuleResult",
    "RuleSet",
    "check_destination",
    "default_rule_set",
    "load_rule_file",
    "load_rule_set",
    "load_rules",
    "read_destination",
]
