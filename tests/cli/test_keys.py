"""``dcc keys init|rotate|list|retire`` and ``dcc trust-list`` as an operator runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli import main
from keys.manifest import read_manifest


@pytest.fixture
def keys_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "keys"
    monkeypatch.setenv("DCC_KEYS_DIR", str(directory))
    monkeypatch.setenv("DCC_DATABASE_URL", f"sqlite:///{tmp_path / 'dcc.sqlite3'}")
    return directory


def _rows(out: str) -> list[list[str]]:
    return [line.split() for line in out.strip().splitlines()[1:]]


def test_rotate_list_retire(keys_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["keys", "init"]) == 0
    first = read_manifest(keys_env).dscs[0].kid
    assert main(["db", "upgrade"]) == 0
    capsys.readouterr()
    assert main(["keys", "rotate", "--activate-at", "2099-01-01T00:00:00+00:00"]) == 0
    out = capsys.readouterr().out
    second = read_manifest(keys_env).dscs[1].kid
    assert f"kid: {second}" in out
    assert "active from: 2099-01-01T00:00:00Z" in out
    assert main(["keys", "list"]) == 0
    rows = _rows(capsys.readouterr().out)
    assert [(row[0], row[1], row[2], row[4]) for row in rows] == [
        (first, "ES256", "file", "active"),
        (second, "ES256", "file", "pending"),
    ]
    assert rows[0][-1] == "-"  # the register holds no certificate of it yet
    assert main(["trust-list"]) == 0
    assert {entry["kid"] for entry in json.loads(capsys.readouterr().out)} == {first, second}
    assert main(["keys", "retire", first]) == 0
    assert "stays in the trust list" in capsys.readouterr().out
    assert main(["keys", "list", "--no-register"]) == 0
    states = [(row[0], row[4]) for row in _rows(capsys.readouterr().out)]
    assert states == [(first, "retiring"), (second, "pending")]


def test_rotate_now_and_scope(keys_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["keys", "init"]) == 0
    assert main(["keys", "rotate", "--activate-at", "now", "--scope", "lab-1"]) == 0
    capsys.readouterr()
    assert main(["keys", "list", "--no-register"]) == 0
    rows = _rows(capsys.readouterr().out)
    assert [(row[3], row[4]) for row in rows] == [("-", "active"), ("lab-1", "active")]


def test_bad_input_is_one_line(keys_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["keys", "init"]) == 0
    assert main(["keys", "retire", "nothing-like-this"]) == 2
    assert "dcc: error:" in capsys.readouterr().err
    assert main(["keys", "rotate", "--activate-at", "2099-01-01T00:00:00"]) == 2
    assert "UTC offset" in capsys.readouterr().err


def test_accounts_set_scope(keys_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "upgrade"]) == 0
    assert main(["accounts", "add", "--name", "north lab", "--role", "lab"]) == 0
    capsys.readouterr()
    assert main(["accounts", "list"]) == 0
    account_id = capsys.readouterr().out.splitlines()[1].split()[0]
    assert main(["accounts", "set-scope", account_id, "lab-north"]) == 0
    assert "scope 'lab-north'" in capsys.readouterr().out
    assert main(["accounts", "list"]) == 0
    assert "(scope lab-north)" in capsys.readouterr().out
    assert main(["accounts", "set-scope", account_id, "Bad Scope"]) == 2
    assert "scope" in capsys.readouterr().err
    assert main(["accounts", "set-scope", account_id, "default"]) == 0
    assert "the default scope" in capsys.readouterr().out
