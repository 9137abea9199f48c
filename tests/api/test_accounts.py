"""The accounts store and the ``dcc accounts`` commands."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from api.accounts import (
    AccountError,
    AccountStore,
    add_account,
    hash_key,
    parse_key,
    remove_account,
)
from cli import main
from signing.errors import ConfigError


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_add_stores_only_a_hash_with_mode_0600(tmp_path: Path) -> None:
    path = tmp_path / "var" / "accounts.json"
    created = add_account(path, name="Pharmacie du Centre", role="pharmacist")
    key = created.api_key
    assert key.startswith(f"dcc_{created.account.id}_")
    assert len(key) == 4 + 16 + 1 + 43
    assert mode(path) == 0o600
    text = path.read_text()
    assert key not in text
    assert key.split("_", 2)[2] not in text
    document = json.loads(text)
    assert document["version"] == 1
    [entry] = document["accounts"]
    assert set(entry) == {"id", "name", "role", "created_at", "key_hash"}
    assert entry["key_hash"] == hash_key(key)
    assert not list(path.parent.glob("*.tmp"))


def test_authenticate(tmp_path: Path) -> None:
    path = tmp_path / "accounts.json"
    lab = add_account(path, name="lab", role="lab")
    pharmacy = add_account(path, name="pharmacy", role="pharmacist")
    store = AccountStore.load(path)
    assert len(store) == 2
    assert store.authenticate(lab.api_key) == lab.account
    assert store.authenticate(pharmacy.api_key) == pharmacy.account
    # the right id with another account's secret, a wrong secret, garbage
    swapped = f"dcc_{lab.account.id}_{pharmacy.api_key.split('_', 2)[2]}"
    for wrong in (swapped, lab.api_key + "x", "", "dcc_", "Bearer x", "dcc_zz_y"):
        assert store.authenticate(wrong) is None


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_parse_key_never_crashes(text: str) -> None:
    key_id = parse_key(text)
    assert key_id is None or (len(key_id) == 16 and text.startswith(f"dcc_{key_id}_"))


def test_names_are_unique_and_checked(tmp_path: Path) -> None:
    path = tmp_path / "accounts.json"
    add_account(path, name="dev", role="lab")
    with pytest.raises(AccountError) as taken:
        add_account(path, name="dev", role="pharmacist")
    assert taken.value.code == "account_exists"
    for bad in ("", " padded", "x" * 81, "tab\there"):
        with pytest.raises(AccountError):
            add_account(path, name=bad, role="lab")
    with pytest.raises(AccountError):
        add_account(path, name="ok", role="admin")


def test_remove(tmp_path: Path) -> None:
    path = tmp_path / "accounts.json"
    created = add_account(path, name="gone", role="lab")
    assert remove_account(path, created.account.id) == created.account
    assert AccountStore.load(path).authenticate(created.api_key) is None
    with pytest.raises(AccountError):
        remove_account(path, created.account.id)


def test_missing_file_is_empty_and_broken_file_is_a_config_error(tmp_path: Path) -> None:
    assert len(AccountStore.load(tmp_path / "none.json")) == 0
    path = tmp_path / "accounts.json"
    for broken in (
        "{",
        "[]",
        '{"version": 2, "accounts": []}',
        '{"version": 1, "accounts": [{"id": "x"}]}',
        '{"version": 1, "accounts": [{"id": "0123456789abcdef", "name": "a", '
        '"role": "root", "created_at": "", "key_hash": "' + "0" * 64 + '"}]}',
    ):
        path.write_text(broken)
        with pytest.raises(ConfigError) as caught:
            AccountStore.load(path)
        assert caught.value.code == "accounts_file_invalid"


def test_cli_add_prints_the_key_alone_on_the_last_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "accounts.json"
    monkeypatch.setenv("DCC_ACCOUNTS_FILE", str(path))
    assert main(["accounts", "add", "--name", "Lab Nord", "--role", "lab"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    key = lines[-1]
    account = AccountStore.load(path).authenticate(key)
    assert account is not None
    assert account.role == "lab"
    assert account.name == "Lab Nord"
    assert main(["accounts", "list"]) == 0
    assert account.id in capsys.readouterr().out
    assert main(["accounts", "add", "--name", "Lab Nord", "--role", "lab"]) == 2
    assert "exists already" in capsys.readouterr().err


def test_cli_ensure_dev_creates_once_and_keeps_the_key_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "var" / "accounts.json"
    assert main(["accounts", "ensure-dev", "--file", str(path)]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    key_file = path.parent / "dev-api-key"
    assert mode(key_file) == 0o600
    key = key_file.read_text().strip()
    assert out[-1] == key
    account = AccountStore.load(path).authenticate(key)
    assert account is not None
    assert account.name == "dev"
    assert account.role == "lab"
    assert main(["accounts", "ensure-dev", "--file", str(path)]) == 0
    again = capsys.readouterr().out
    assert "exists" in again
    assert str(key_file) in again
    assert key not in again
    assert len(AccountStore.load(path)) == 1
    key_file.unlink()
    assert main(["accounts", "ensure-dev", "--file", str(path)]) == 0
    assert "cannot be shown again" in capsys.readouterr().out
