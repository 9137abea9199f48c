"""``dcc verify --country CC [--lang L] [--rules-dir D]``: the destination's rules decide."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.test_verify import Setup, run
from tests.verifier.destination.rule_files import BASE_RULE, rule, write_rules

LATE = "2021-07-09T13:00:00Z"  # 25 h after the sample; the certificate is valid 48 h


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Setup:
    return Setup(tmp_path_factory.mktemp("cli-destination"))


@pytest.fixture
def rules_dir(tmp_path: Path) -> Path:
    logic = json.loads(json.dumps(BASE_RULE["Logic"]).replace("48", "24"))
    write_rules(
        tmp_path / "IT",
        "TR-IT-0001.json",
        rule(
            Logic=logic,
            Description=[{"lang": "en", "desc": "The sample must be at most 24 hours old."}],
        ),
    )
    return tmp_path


def test_a_country_whose_rule_fails(
    setup: Setup, rules_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["--trust", str(setup.pem), "--at", LATE, setup.hc1]
    assert run(base, capsys)[0] == 0  # the fixed profile (48 h) accepts it
    code, out, err = run(["--country", "IT", "--rules-dir", str(rules_dir), *base], capsys)
    assert (code, err) == (1, "")
    assert out.splitlines() == [
        "INVALID: rules: TR-IT-0001: The sample must be at most 24 hours old.",
        "  TR-IT-0001 fail: The sample must be at most 24 hours old.",
    ]
    code, out, _ = run(["--json", "--country", "IT", "--rules-dir", str(rules_dir), *base], capsys)
    report = json.loads(out)
    assert report["destination"]["rules"][0]["result"] == "fail"


def test_luxembourg_ships_and_follows_the_date(
    setup: Setup, capsys: pytest.CaptureFixture[str]
) -> None:
    """LU's rules are valid from 2021-07-16T12:00Z: on 2021-07-09 none applies."""
    args = ["--json", "--country", "LU", "--lang", "fr", "--trust", str(setup.pem)]
    code, out, _ = run([*args, "--at", LATE, setup.hc1], capsys)
    assert code == 1
    report = json.loads(out)
    assert report["error"]["code"] == "rules_unavailable"
    assert report["destination"] == {
        "country": "LU",
        "at": LATE,
        "language": "fr",
        "result": "open",
        "rules": [],
    }


def test_a_country_without_rules_and_usage_errors(
    setup: Setup, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["--trust", str(setup.pem), "--at", LATE, setup.hc1]
    code, out, _ = run(["--country", "IT", *base], capsys)
    assert code == 1
    assert out.startswith("INVALID: rules: no IT rule for test certificates is loaded")
    code, _, err = run(["--country", "Italy", *base], capsys)
    assert code == 2
    assert "ISO 3166-1 alpha-2" in err
    write_rules(tmp_path, "bad.json", rule(Version="one"))
    code, _, err = run(["--country", "IT", "--rules-dir", str(tmp_path), *base], capsys)
    assert code == 2
    assert "bad.json" in err
