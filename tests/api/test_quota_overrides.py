"""Per-account issuance quotas: stored in the accounts file, set by ``dcc accounts``, applied
by the app instead of the role's rate."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from api.accounts import AccountError, AccountStore, add_account, rate_text, set_account_rate
from api.ratelimit import Rate
from cli import main
from signing.errors import ConfigError


def test_rate_round_trips_through_the_file_and_can_be_reset(tmp_path: Path) -> None:
    path = tmp_path / "accounts.json"
    plain = add_account(path, name="plain", role="lab").account
    own = add_account(path, name="own", role="lab", rate=Rate.parse("100/minute", 150)).account
    entries = {entry["name"]: entry for entry in json.loads(path.read_text())["accounts"]}
    assert set(entries["plain"]) == {"id", "name", "role", "created_at", "key_hash"}
    assert (entries["own"]["rate"], entries["own"]["burst"]) == ("100/minute", 150)
    store = AccountStore.load(path)
    assert store.by_name("own") == own
    assert own.rate == Rate(count=100, period_seconds=60.0, burst=150)
    assert store.by_name("plain") == plain
    assert plain.rate is None

    changed = set_account_rate(path, plain.id, Rate.parse("5/hour"))
    assert changed.rate == Rate.parse("5/hour")
    entry = json.loads(path.read_text())["accounts"][0]
    assert (entry["rate"], "burst" in entry) == ("5/hour", False)
    assert set_account_rate(path, own.id, None) == replace(own, rate=None)
    rates = {account.name: account.rate for account in AccountStore.load(path)}
    assert rates == {"plain": Rate.parse("5/hour"), "own": None}
    with pytest.raises(AccountError) as missing:
        set_account_rate(path, "0" * 16, None)
    assert missing.value.code == "account_not_found"
    odd = Rate(count=1, period_seconds=7.0, burst=1)  # not spelled per second/minute/hour
    with pytest.raises(AccountError):
        set_account_rate(path, own.id, odd)
    assert {account.name: account.rate for account in AccountStore.load(path)} == rates


@pytest.mark.parametrize(
    "extra",
    [
        {"rate": "lots"},
        {"rate": "0/minute"},
        {"rate": 5},
        {"burst": 3},
        {"rate": "5/minute", "burst": "3"},
        {"rate": "5/minute", "burst": True},
        {"rate": "5/minute", "colour": "red"},
    ],
)
def test_bad_rate_fields_make_the_file_invalid(tmp_path: Path, extra: dict[str, Any]) -> None:
    path = tmp_path / "accounts.json"
    add_account(path, name="lab", role="lab")
    document = json.loads(path.read_text())
    document["accounts"][0].update(extra)
    path.write_text(json.dumps(document))
    with pytest.raises(ConfigError) as caught:
        AccountStore.load(path)
    assert caught.value.code == "accounts_file_invalid"


def test_rate_text() -> None:
    assert rate_text(Rate.parse("100/minute")) == "100/minute"
    assert rate_text(Rate.parse("5/h", 9)) == "5/hour (burst 9)"
    assert rate_text(Rate(count=1, period_seconds=7.0, burst=1)) == "1/7s"


def test_cli_add_set_rate_and_list(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "accounts.json"
    monkeypatch.setenv("DCC_ACCOUNTS_FILE", str(path))
    args = ["accounts", "add", "--name", "Lab Sud", "--role", "lab", "--rate", "100/minute"]
    assert main([*args, "--burst", "150"]) == 0
    out = capsys.readouterr().out
    assert "issuance quota: 100/minute (burst 150)" in out
    account = AccountStore.load(path).authenticate(out.strip().splitlines()[-1])
    assert account is not None
    assert account.rate == Rate.parse("100/minute", 150)

    assert main(["accounts", "list"]) == 0
    assert "100/minute (burst 150)" in capsys.readouterr().out
    assert main(["accounts", "set-rate", account.id, "--rate", "default"]) == 0
    assert "its role's" in capsys.readouterr().out
    assert AccountStore.load(path).authenticate(out.strip().splitlines()[-1]) is not None
    assert main(["accounts", "list"]) == 0
    assert "role default" in capsys.readouterr().out
    assert main(["accounts", "set-rate", account.id, "--rate", "7/second"]) == 0
    stored = AccountStore.load(path).by_name("Lab Sud")
    assert stored is not None
    assert stored.rate == Rate.parse("7/second")

    for bad in (
        ["accounts", "set-rate", account.id, "--rate", "fast"],
        ["accounts", "set-rate", account.id, "--rate", "default", "--burst", "3"],
        ["accounts", "set-rate", "0" * 16, "--rate", "1/second"],
        ["accounts", "add", "--name", "x", "--role", "lab", "--burst", "3"],
    ):
        assert main(bad) == 2
        assert capsys.readouterr().err.startswith("dcc: error: ")
    with pytest.raises(SystemExit):
        main(["accounts", "set-rate", account.id])  # --rate is required
    assert stored == AccountStore.load(path).by_name("Lab Sud")


async def test_app_charges_the_accounts_own_rate(start_service: Any, make_request: Any) -> None:
    """The role rate (60/minute in tests) applies to one pharmacist, 2/hour to another."""
    service = await start_service()
    path = service.resources.settings.accounts_file
    own = add_account(path, name="slow-pharmacy", role="pharmacist", rate=Rate.parse("2/hour"))
    service = await start_service()  # accounts are read at start-up
    own_auth = service.auth(own.api_key)
    answers = [
        await service.client.post("/v1/certificates", json=make_request(), headers=own_auth)
        for _ in range(3)
    ]
    assert [answer.status_code for answer in answers] == [201, 201, 429]
    assert answers[0].headers["ratelimit-limit"] == "2"
    assert answers[0].headers["ratelimit-policy"] == "2;w=3600"
    assert answers[2].headers["ratelimit-remaining"] == "0"
    assert 1790 <= int(answers[2].headers["retry-after"]) <= 1800
    role_auth = service.auth(service.pharmacist_key)
    other = await service.client.post("/v1/certificates", json=make_request(), headers=role_auth)
    assert other.status_code == 201
    assert other.headers["ratelimit-limit"] == "60"
    assert other.headers["ratelimit-policy"] == "60;w=60"
