"""Rule selection as the EU apps do it: country, type, validity window, latest version."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from tests.verifier.destination.rule_files import rule, write_rules
from verifier.destination import RuleSet, load_rule_set, load_rules


def _rules(tmp_path: Path) -> RuleSet:
    write_rules(
        tmp_path,
        "it.json",
        rule(Version="1.0.0", ValidFrom="2021-07-01T00:00:00Z"),
        rule(Version="1.1.0", ValidFrom="2021-12-01T00:00:00Z"),
        rule(Version="1.10.0", ValidFrom="2022-06-01T00:00:00Z"),
        rule(Identifier="GR-IT-0001", CertificateType="General"),
        rule(Identifier="VR-IT-0001", CertificateType="Vaccination"),
        rule(Identifier="TR-IT-0009", ValidTo="2021-08-01T00:00:00Z"),
        rule(Identifier="TR-IT-0010", Region="BZ"),
        rule(Identifier="IR-IT-0001", Type="Invalidation", CertificateType="General"),
    )
    return RuleSet(tuple(load_rules([tmp_path])))


def _select(rules: RuleSet, at: datetime, **kwargs: str) -> list[tuple[str, str]]:
    chosen = rules.select(
        country=kwargs.pop("country", "IT"),
        certificate_type=kwargs.pop("certificate_type", "test"),
        at=at,
        **kwargs,  # type: ignore[arg-type]
    )
    return [(r.identifier, r.version_text) for r in chosen]


def test_the_latest_version_valid_at_the_date_is_chosen(tmp_path: Path) -> None:
    rules = _rules(tmp_path)
    july = datetime(2021, 7, 20, 10, tzinfo=UTC)
    assert _select(rules, july) == [
        ("GR-IT-0001", "1.0.0"),
        ("TR-IT-0001", "1.0.0"),
        ("TR-IT-0009", "1.0.0"),
    ]
    assert ("TR-IT-0001", "1.1.0") in _select(rules, datetime(2022, 1, 1, tzinfo=UTC))
    # versions compare as numbers: 1.10.0 is newer than 1.1.0
    assert ("TR-IT-0001", "1.10.0") in _select(rules, datetime(2022, 7, 1, tzinfo=UTC))
    assert _select(rules, datetime(2021, 6, 30, tzinfo=UTC)) == []


def test_type_region_country_and_invalidation(tmp_path: Path) -> None:
    rules = _rules(tmp_path)
    at = datetime(2022, 7, 1, tzinfo=UTC)
    vaccination = _select(rules, at, certificate_type="vaccination")
    assert [name for name, _ in vaccination] == ["GR-IT-0001", "VR-IT-0001"]
    assert ("TR-IT-0010", "1.0.0") in _select(rules, at, region="BZ")
    assert ("TR-IT-0010", "1.0.0") not in _select(rules, at)
    assert _select(rules, at, country="FR") == []
    # Invalidation rules are the issuing country's, whatever the destination
    assert ("IR-IT-0001", "1.0.0") in _select(rules, at, country="FR", issuer_country="IT")
    assert ("IR-IT-0001", "1.0.0") not in _select(rules, at, issuer_country="FR")


def test_an_operators_copy_of_a_packaged_rule_replaces_it(tmp_path: Path) -> None:
    own = rule(
        Identifier="TR-LU-0001", Country="LU", Version="1.0.0", ValidFrom="2021-07-16T12:00:00Z"
    )
    path = write_rules(tmp_path, "lu.json", own)
    rules = load_rule_set([tmp_path])
    chosen = rules.select(
        country="LU", certificate_type="test", at=datetime(2022, 1, 1, tzinfo=UTC)
    )
    assert [r.identifier for r in chosen] == [
        "TR-LU-0001",
        "TR-LU-0002",
        "TR-LU-0003",
        "TR-LU-0004",
    ]
    assert chosen[0].source == str(path)
    assert len(rules.rules) == 5
