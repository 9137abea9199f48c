"""Rule files: the gateway format, validated against the gateway's schema and CertLogic."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from signing.errors import ConfigError
from tests.conftest import SCHEMA_DIR
from tests.verifier.destination.rule_files import rule, write_rules
from verifier.destination import PACKAGED_RULES_DIR, default_rule_set, load_rule_file, load_rules
from verifier.destination.load import MAX_RULE_FILE_BYTES

LU_SOURCE = SCHEMA_DIR / "eu-dcc-business-rules-analysis" / "per-country" / "LU"


def test_luxembourg_rules_ship_with_the_package() -> None:
    rules = default_rule_set().rules
    assert sorted((r.identifier, r.version_text) for r in rules) == [
        ("TR-LU-0001", "1.0.0"),
        ("TR-LU-0002", "1.3.0"),
        ("TR-LU-0003", "1.3.0"),
        ("TR-LU-0004", "1.0.0"),
    ]
    assert default_rule_set().countries == ["LU"]
    folder = PACKAGED_RULES_DIR.parent
    assert "Apache License" in (folder / "LICENSE").read_text(encoding="utf-8")
    assert "TR-LU-0002" in (folder / "NOTICE").read_text(encoding="utf-8")
    two = next(r for r in rules if r.identifier == "TR-LU-0002")
    assert two.valid_from == datetime(2021, 12, 18, 17, tzinfo=UTC)
    assert "24 heures" in two.description("fr")
    assert two.description("fr-LU") == two.description("fr")
    assert two.description("pt") == two.description("en")


def test_the_packaged_rules_are_unchanged_copies() -> None:
    if not LU_SOURCE.is_dir():
        pytest.skip(f"the published LU rules are not at {LU_SOURCE}")
    for path in sorted(LU_SOURCE.glob("*.json")):
        assert (PACKAGED_RULES_DIR / "LU" / path.name).read_bytes() == path.read_bytes()


def test_an_operator_folder_adds_countries(tmp_path: Path) -> None:
    write_rules(tmp_path / "IT", "TR-IT-0001.json", rule())
    write_rules(
        tmp_path,
        "more.json",
        rule(Identifier="TR-IT-0002"),
        rule(Country="FR", Identifier="TR-FR-0001"),
    )
    rules = load_rules([tmp_path])
    assert sorted(r.identifier for r in rules) == ["TR-FR-0001", "TR-IT-0001", "TR-IT-0002"]
    assert rules[0].source.endswith(".json")


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"Identifier": "XX-IT-0001"}, "Identifier"),
        ({"Country": "Italy"}, "Country"),
        ({"Version": "1.0"}, "Version"),
        ({"Type": "Whatever"}, "Type"),
        ({"CertificateType": "Passport"}, "CertificateType"),
        ({"Description": [{"lang": "it", "desc": "Solo in italiano, senza inglese."}]}, ""),
        ({"ValidFrom": "2021-07-01"}, "ValidFrom"),
        ({"Logic": None}, "Logic"),
        ({"Unknown": 1}, "Unknown"),
        ({"Logic": {"nope": [1]}}, 'unrecognised operator: "nope"'),
        ({"Logic": {"if": [True, 1]}}, '"if" has 2 operands'),
    ],
)
def test_a_rule_the_gateway_would_refuse_is_refused(
    tmp_path: Path, changes: dict[str, object], problem: str
) -> None:
    path = write_rules(tmp_path, "bad.json", rule(**changes))
    with pytest.raises(ConfigError) as caught:
        load_rule_file(path)
    assert caught.value.code == "rules_invalid"
    assert str(path) in caught.value.message
    assert problem in caught.value.message


def test_unreadable_huge_or_broken_files_are_refused(tmp_path: Path) -> None:
    huge = tmp_path / "huge.json"
    huge.write_bytes(b" " * (MAX_RULE_FILE_BYTES + 1))
    broken = tmp_path / "broken.json"
    broken.write_text("{", encoding="utf-8")
    for path in (huge, broken, tmp_path / "missing.json"):
        with pytest.raises(ConfigError, match="rule file"):
            load_rule_file(path)
    with pytest.raises(ConfigError, match="not a directory"):
        load_rules([tmp_path / "nowhere"])


def test_the_analysis_annotation_is_dropped_but_nothing_else(tmp_path: Path) -> None:
    annotated = rule()
    annotated["expr-as-text"] = "..."
    assert load_rule_file(write_rules(tmp_path, "a.json", annotated))[0].identifier
    data = json.loads((PACKAGED_RULES_DIR / "LU" / "TR-0001.json").read_text(encoding="utf-8"))
    assert "expr-as-text" in data[0]
