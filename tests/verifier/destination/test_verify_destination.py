"""verify(..., destination=...) on issued certificates: Luxembourg's published rules, and an
operator's rule file, decide the ``rules`` check and fill the report's ``destination``."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from hcert.valuesets import TEST_TYPE_NAAT, TEST_TYPE_RAT, DeviceRegistry
from issuer.issuer import IssuedCertificate, IssuerConfig
from keys.load import SigningKeys
from signing.errors import RequestInvalid
from tests.conftest import IssuerFactory, issue_request
from tests.verifier.destination.rule_files import rule, write_rules
from verifier import verify
from verifier.destination import Destination, RuleSet, load_rules, read_destination

SAMPLED = datetime(2022, 1, 10, 8, 0, tzinfo=UTC)  # LU's 24 h / 48 h rules are in force
LONG_VALIDITY = IssuerConfig(
    validity={TEST_TYPE_RAT: timedelta(hours=72), TEST_TYPE_NAAT: timedelta(hours=96)}
)


def _issue(build_issuer: IssuerFactory, keys: SigningKeys, **test: Any) -> IssuedCertificate:
    issuer = build_issuer(keys, clock=lambda: SAMPLED + timedelta(minutes=30), config=LONG_VALIDITY)
    request = issue_request(sample_collected_at="2022-01-10T08:00:00Z", **test)
    return issuer.issue(request)


def _verify(issued: IssuedCertificate, keys: SigningKeys, hours: float, **kw: Any) -> Any:
    now = SAMPLED + timedelta(hours=hours)
    return verify(
        issued.hc1,
        trust=[keys.certificate],
        now=now,
        destination=Destination(kw.pop("country", "LU"), kw.pop("language", "en"), **kw),
    )


def test_a_50_hour_old_rat_fails_luxembourgs_rule(
    build_issuer: IssuerFactory, es256_keys: SigningKeys
) -> None:
    issued = _issue(build_issuer, es256_keys)
    report = _verify(issued, es256_keys, 50, language="fr")
    assert not report.valid
    assert [c.name for c in report.checks if not c.ok] == ["rules"]  # technically fine
    assert report.error.code == "rule_failed"
    assert report.error.message.startswith("TR-LU-0002: The sample for an antigen test")
    assert report.check("rules").detail == "LU: failed TR-LU-0002"
    out = report.to_dict()["destination"]
    assert out["country"] == "LU"
    assert out["result"] == "fail"
    assert out["at"] == "2022-01-12T10:00:00Z"
    assert out["language"] == "fr"
    results = {item["id"]: item for item in out["rules"]}
    assert sorted(results) == ["TR-LU-0001", "TR-LU-0002", "TR-LU-0003", "TR-LU-0004"]
    assert results["TR-LU-0002"]["result"] == "fail"
    assert results["TR-LU-0002"]["description"].startswith("Le prélèvement pour un test antig")
    assert results["TR-LU-0002"]["version"] == "1.3.0"
    assert {results[i]["result"] for i in ("TR-LU-0001", "TR-LU-0003", "TR-LU-0004")} == {"pass"}


def test_a_fresh_rat_passes_and_a_naat_has_48_hours(
    build_issuer: IssuerFactory, es256_keys: SigningKeys
) -> None:
    fresh = _verify(_issue(build_issuer, es256_keys), es256_keys, 23)
    assert fresh.valid, fresh.to_dict()
    assert fresh.check("rules").detail == "LU: 4 rules passed"
    naat = _issue(build_issuer, es256_keys, type="naat", name="PCR kit", device=None)
    assert _verify(naat, es256_keys, 47).valid
    late = _verify(naat, es256_keys, 49)
    assert late.error.message.startswith("TR-LU-0003")


def test_before_the_rules_validity_only_the_rules_then_in_force_apply(
    build_issuer: IssuerFactory, es256_keys: SigningKeys
) -> None:
    """At 2021-07-20 only TR-LU-0001/0004 are in force among the shipped (latest) versions."""
    issuer = build_issuer(es256_keys, clock=lambda: datetime(2021, 7, 20, 9, tzinfo=UTC))
    issued = issuer.issue(issue_request(sample_collected_at="2021-07-20T08:00:00Z"))
    at = datetime(2021, 7, 20, 10, tzinfo=UTC)
    report = verify(
        issued.hc1, trust=[es256_keys.certificate], now=at, destination=Destination("LU")
    )
    assert report.valid
    assert [r["id"] for r in report.to_dict()["destination"]["rules"]] == [
        "TR-LU-0001",
        "TR-LU-0004",
    ]


def test_a_country_without_rules_cannot_be_told(
    build_issuer: IssuerFactory, es256_keys: SigningKeys
) -> None:
    report = _verify(_issue(build_issuer, es256_keys), es256_keys, 1, country="IT")
    assert not report.valid
    assert report.error.code == "rules_unavailable"
    assert report.to_dict()["destination"] == {
        "country": "IT",
        "at": "2022-01-10T09:00:00Z",
        "language": "en",
        "result": "open",
        "rules": [],
    }


def test_an_operators_rules_decide_and_an_undecidable_rule_is_open(
    build_issuer: IssuerFactory, es256_keys: SigningKeys, tmp_path: Path
) -> None:
    write_rules(
        tmp_path,
        "it.json",
        rule(),
        rule(Identifier="TR-IT-0002", Logic={"if": [{"var": "payload.t.0.sc"}, 1, 2]}),
    )
    rules = RuleSet(tuple(load_rules([tmp_path])))
    issued = _issue(build_issuer, es256_keys)
    report = _verify(issued, es256_keys, 30, country="IT", rules=rules)
    assert report.error.code == "rule_open"
    assert report.check("rules").detail == "IT: open TR-IT-0002"
    results = report.to_dict()["destination"]["rules"]
    assert [(r["id"], r["result"]) for r in results] == [
        ("TR-IT-0001", "pass"),
        ("TR-IT-0002", "open"),
    ]
    assert results[1]["reason"] == "the rule's value is neither true nor false"
    broken = rule(Identifier="TR-IT-0002", Logic={"<": [{"var": "payload.t.0.sc"}, 1]})
    write_rules(tmp_path, "it.json", rule(), broken)
    rules = RuleSet(tuple(load_rules([tmp_path])))
    report = _verify(issued, es256_keys, 30, country="IT", rules=rules)
    reason = report.to_dict()["destination"]["rules"][1]["reason"]
    assert reason.startswith("cannot be evaluated: all operands")
    write_rules(tmp_path, "it.json", rule(EngineVersion="2.0.0"))
    rules = RuleSet(tuple(load_rules([tmp_path])))
    report = _verify(issued, es256_keys, 30, country="IT", rules=rules)
    assert report.to_dict()["destination"]["rules"][0]["result"] == "open"


def test_the_external_parameters_reach_the_rules(
    build_issuer: IssuerFactory, es256_keys: SigningKeys, tmp_path: Path
) -> None:
    checks = {
        "and": [
            {"===": [{"var": "external.countryCode"}, "IT"]},
            {"===": [{"var": "external.issuerCountryCode"}, {"var": "payload.t.0.co"}]},
            {
                "in": [
                    {"var": "payload.t.0.tt"},
                    {"var": "external.valueSets.covid-19-lab-test-type"},
                ]
            },
            {
                "before": [
                    {"plusTime": [{"var": "external.iat"}, 0, "hour"]},
                    {"plusTime": [{"var": "external.exp"}, 0, "hour"]},
                ]
            },
            {"!": [{"===": [{"var": "external.kid"}, ""]}]},
        ]
    }
    write_rules(tmp_path, "it.json", rule(Logic=checks))
    rules = RuleSet(tuple(load_rules([tmp_path])))
    report = _verify(_issue(build_issuer, es256_keys), es256_keys, 2, country="IT", rules=rules)
    assert report.valid, report.to_dict()


def test_without_a_destination_the_fixed_profile_still_decides(
    build_issuer: IssuerFactory, es256_keys: SigningKeys
) -> None:
    issued = _issue(build_issuer, es256_keys)
    report = verify(issued.hc1, trust=[es256_keys.certificate], now=SAMPLED + timedelta(hours=30))
    assert report.valid
    assert "destination" not in report.to_dict()


def test_read_destination_refuses_bad_values() -> None:
    destination, at = read_destination("IT", "2021-07-20T10:00:00", "fr")
    assert destination is not None
    assert destination.country == "IT"
    assert destination.language == "fr"
    assert at == datetime(2021, 7, 20, 10, tzinfo=UTC)
    assert read_destination(None, None) == (None, None)
    with pytest.raises(RequestInvalid) as caught:
        read_destination("it", "friday", "xx")
    assert sorted(e.code for e in caught.value.errors) == [
        "at_invalid",
        "country_invalid",
        "lang_invalid",
    ]


@pytest.mark.parametrize("value", [["fr"], {"fr": 1}, 7, 2.5, True])
def test_read_destination_refuses_values_of_other_json_types(value: object) -> None:
    """Found by the OpenAPI conformance run: a list as ``lang`` raised TypeError (500)."""
    for arguments in ((value, None, None), (None, value, None), (None, None, value)):
        with pytest.raises(RequestInvalid):
            read_destination(*arguments)


def test_a_configured_device_list_is_the_device_value_set(
    build_issuer: IssuerFactory, es256_keys: SigningKeys, tmp_path: Path
) -> None:
    in_list = {
        "in": [
            {"var": "payload.t.0.ma"},
            {"var": "external.valueSets.covid-19-lab-test-manufacturer-and-name"},
        ]
    }
    write_rules(tmp_path, "it.json", rule(Logic=in_list))
    rules = RuleSet(tuple(load_rules([tmp_path])))
    issued = _issue(build_issuer, es256_keys)  # device 1232, in the packaged EU list
    now = SAMPLED + timedelta(hours=2)
    destination = Destination("IT", rules=rules)
    trust = [es256_keys.certificate]
    assert verify(issued.hc1, trust=trust, now=now, destination=destination).valid
    other = DeviceRegistry.from_file(_device_list(tmp_path, ["1065"]))
    report = verify(issued.hc1, trust=trust, now=now, destination=destination, devices=other)
    assert report.error.code == "rule_failed"


def _device_list(folder: Path, ids: list[str]) -> Path:
    path = folder / "devices.json"
    values = {i: {"display": f"Device {i}", "active": True} for i in ids}
    path.write_text(
        json.dumps(
            {
                "valueSetId": "covid-19-lab-test-manufacturer-and-name",
                "valueSetDate": "2021-07-01",
                "valueSetValues": values,
            }
        )
    )
    return path
