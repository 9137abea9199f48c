"""``dcc accounts`` and ``dcc db`` on the store (DCC_DATABASE_URL), run as an operator runs them."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from api.ratelimit import Rate
from cli import main
from store.accounts import hash_key
from tests.accounts import run_on_store


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'dcc.sqlite3'}"
    monkeypatch.setenv("DCC_DATABASE_URL", url)
    return url


def _names(url: str) -> dict[str, str]:
    records = run_on_store(url, lambda store: store.accounts.list(include_removed=True))
    return {record.name: record.status for record in records}


def test_db_upgrade_then_status(database: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "status"]) == 1
    assert "run `dcc db upgrade`" in capsys.readouterr().out
    assert main(["db", "upgrade"]) == 0
    assert "upgraded from empty to revision" in capsys.readouterr().out
    assert main(["db", "upgrade"]) == 0
    assert "up to date" in capsys.readouterr().out
    assert main(["db", "status"]) == 0


def test_accounts_need_an_upgraded_database(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["accounts", "list"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("dcc: error: ")
    assert "dcc db upgrade" in err


def test_add_prints_the_key_alone_and_list_shows_the_account(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["db", "upgrade"])
    capsys.readouterr()
    args = ["accounts", "add", "--name", "Lab Sud", "--role", "lab", "--rate", "100/minute"]
    assert main([*args, "--burst", "150"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    key = out[-1]
    assert key.startswith("dcc_")
    assert "issuance quota: 100/minute (burst 150)" in out
    [record] = run_on_store(database, lambda store: store.accounts.list())
    assert record.keys[0].key_hash == hash_key(key)
    assert main(["accounts", "list"]) == 0
    listing = capsys.readouterr().out
    assert record.id in listing
    assert "100/minute (burst 150)" in listing
    assert main(["accounts", "add", "--name", "Lab Sud", "--role", "lab"]) == 2
    assert "exists already" in capsys.readouterr().err


def test_set_rate_disable_enable_remove(database: str, capsys: pytest.CaptureFixture[str]) -> None:
    main(["db", "upgrade"])
    main(["accounts", "add", "--name", "Lab", "--role", "lab"])
    [record] = run_on_store(database, lambda store: store.accounts.list())
    capsys.readouterr()
    assert main(["accounts", "set-rate", record.id, "--rate", "7/second"]) == 0
    assert "7/second" in capsys.readouterr().out
    assert main(["accounts", "set-rate", record.id, "--rate", "default"]) == 0
    assert "its role's" in capsys.readouterr().out
    for action, status in (("disable", "disabled"), ("enable", "active"), ("remove", "removed")):
        assert main(["accounts", action, record.id]) == 0
        assert _names(database)["Lab"] == status
    for bad in (
        ["accounts", "set-rate", record.id, "--rate", "1/second"],  # removed
        ["accounts", "set-rate", "0" * 16, "--rate", "fast"],
        ["accounts", "add", "--name", "x", "--role", "lab", "--burst", "3"],
        ["accounts", "rotate-key", record.id, "--grace", "soon"],
    ):
        assert main(bad) == 2
        assert capsys.readouterr().err.startswith("dcc: error: ")
    assert main(["accounts", "list"]) == 0
    assert "0 account(s)" in capsys.readouterr().out


def test_rotate_key_prints_a_new_key_and_keeps_the_old_for_the_grace(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["db", "upgrade"])
    main(["accounts", "add", "--name", "Lab", "--role", "lab"])
    old = capsys.readouterr().out.strip().splitlines()[-1]
    [record] = run_on_store(database, lambda store: store.accounts.list())
    assert main(["accounts", "rotate-key", record.id, "--grace", "30m"]) == 0
    new = capsys.readouterr().out.strip().splitlines()[-1]
    assert new != old
    [rotated] = run_on_store(database, lambda store: store.accounts.list())
    by_hash = {key.key_hash: key for key in rotated.keys}
    assert by_hash[hash_key(new)].expires_at is None
    expires = by_hash[hash_key(old)].expires_at
    assert expires is not None
    assert expires - by_hash[hash_key(new)].created_at == 1800


def test_ensure_dev_creates_once_and_keeps_the_key_file(
    database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["db", "upgrade"])
    key_file = tmp_path / "var" / "dev-api-key"
    assert main(["accounts", "ensure-dev", "--key-file", str(key_file)]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    key = key_file.read_text().strip()
    assert out[-1] == key
    assert main(["accounts", "ensure-dev", "--key-file", str(key_file)]) == 0
    again = capsys.readouterr().out
    assert "exists" in again
    assert key not in again
    assert list(_names(database)) == ["dev"]
    key_file.unlink()
    assert main(["accounts", "ensure-dev", "--key-file", str(key_file)]) == 0
    assert "rotate-key" in capsys.readouterr().out


def test_import_keeps_ids_keys_and_quotas_of_the_old_file(
    database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["db", "upgrade"])
    key = "dcc_0123456789abcdef_" + "s" * 43
    document = {
        "version": 1,
        "accounts": [
            {
                "id": "0123456789abcdef",
                "name": "Pharmacie",
                "role": "pharmacist",
                "created_at": "2026-11-01T10:00:00Z",
                "key_hash": hash_key(key),
                "rate": "5/hour",
            }
        ],
    }
    path = tmp_path / "accounts.json"
    path.write_text(json.dumps(document))
    assert main(["accounts", "import", str(path)]) == 0
    assert "imported 1 of 1" in capsys.readouterr().out
    [record] = run_on_store(database, lambda store: store.accounts.list())
    assert (record.id, record.keys[0].key_hash) == ("0123456789abcdef", hash_key(key))
    assert record.rate is not None
    assert Rate(record.rate.count, float(record.rate.period), record.rate.burst) == Rate.parse(
        "5/hour"
    )
    assert main(["accounts", "import", str(path)]) == 0
    assert "skipped" in capsys.readouterr().out
    for broken in ("{", "[]", '{"version": 2, "accounts": []}', '{"version": 1, "accounts": [1]}'):
        path.write_text(broken)
        assert main(["accounts", "import", str(path)]) == 2
        assert "dcc: error:" in capsys.readouterr().err


def test_members_are_managed_with_dcc_members(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["db", "upgrade"])
    main(["accounts", "add", "--name", "Centre", "--role", "pharmacist", "--kind", "test_centre"])
    assert "test_centre" in capsys.readouterr().out
    [account] = run_on_store(database, lambda store: store.accounts.list())
    args = ["members", "add", "--account", account.id, "--subject", "sub-1", "--role", "issuer"]
    assert main([*args, "--register-number", "RN-42"]) == 0
    member_id = capsys.readouterr().out.split()[2]
    assert main(["members", "set-role", member_id, "operator"]) == 0
    assert main(["members", "disable", member_id]) == 0
    capsys.readouterr()
    assert main(["members", "list", "--account", account.id]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "1 member(s)"
    assert out[1].split() == [member_id, account.id, "operator", "disabled", "RN-42", "sub-1"]
    assert main(args) == 2
    assert "member of an organisation already" in capsys.readouterr().err
