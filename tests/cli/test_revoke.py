"""``dcc issue`` → ``dcc revoke`` → ``dcc revocation-list`` → ``dcc verify --revocation``,
in process, on an SQLite store (DCC_DATABASE_URL) and the session keys."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from cli import main
from keys.layout import DSC_CERT_FILE
from keys.manifest import read_manifest
from tests.conftest import issue_request


@pytest.fixture
def deployment(tmp_path: Path, session_keys: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DCC_DATABASE_URL", f"sqlite:///{tmp_path / 'dcc.sqlite3'}")
    keys = shutil.copytree(session_keys, tmp_path / "keys")  # `revoke key` may revoke a DSC
    monkeypatch.setenv("DCC_KEYS_DIR", str(keys))
    monkeypatch.setenv("DCC_AUDIT_FILE", str(tmp_path / "audit.log"))
    assert main(["db", "upgrade"]) == 0
    return tmp_path


def issue(directory: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    request = directory / "request.json"
    request.write_text(json.dumps(issue_request()))
    capsys.readouterr()
    assert main(["issue", str(request)]) == 0
    issued: dict[str, Any] = json.loads(capsys.readouterr().out)
    return issued


def test_revoke_publish_and_verify(
    deployment: Path, session_keys: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    revoked, kept = issue(deployment, capsys), issue(deployment, capsys)
    assert main(["revoke", "certificate", revoked["uvci"], "--reason", "issued_in_error"]) == 0
    assert capsys.readouterr().out.startswith("revoked 1 certificate(s); 0 were revoked already")
    assert main(["revoke", "certificate", revoked["uvci"], "--reason", "fraud"]) == 0
    assert "revoked 0 certificate(s); 1 were revoked already" in capsys.readouterr().out
    assert main(["revoke", "certificate", "URN:UVCI:01:LU:NOPE#A", "--reason", "fraud"]) == 2
    assert "no certificate with this UVCI" in capsys.readouterr().err

    listing = deployment / "revocations.json"
    assert main(["revocation-list", "--output", str(listing)]) == 0
    assert "1 revoked certificate(s) in 3 batch(es)" in capsys.readouterr().err
    document = json.loads(listing.read_text())
    assert {batch["hashType"] for batch in document["batches"]} == {
        "SIGNATURE",
        "UCI",
        "COUNTRYCODEUCI",
    }
    assert main(["revocation-list"]) == 0
    assert json.loads(capsys.readouterr().out) == document

    trust = str(session_keys / DSC_CERT_FILE)
    code = main(["verify", "--trust", trust, "--revocation", str(listing), revoked["hc1"]])
    assert code == 1
    assert capsys.readouterr().out.startswith("INVALID: revocation: the certificate was revoked")
    assert main(["verify", "--trust", trust, "--revocation", str(listing), kept["hc1"]]) == 0
    assert capsys.readouterr().out.strip() == "VALID"
    bad = deployment / "bad.json"
    bad.write_text("[1]")
    assert main(["verify", "--trust", trust, "--revocation", str(bad), kept["hc1"]]) == 2
    assert "revocation list" in capsys.readouterr().err


def test_revoke_account_window_and_key(
    deployment: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    issued = [issue(deployment, capsys) for _ in range(3)]
    window = ["--from", "2000-01-01T00:00:00Z", "--until", "2100-01-01T00:00:00+00:00"]
    assert main(["revoke", "account", "cli", *window, "--reason", "fraud"]) == 0
    assert "revoked 3 certificate(s); 0 were revoked already" in capsys.readouterr().out
    assert main(["revoke", "account", "other", *window, "--reason", "fraud"]) == 0
    assert "revoked 0 certificate(s); 0 were revoked already (0 matched)" in capsys.readouterr().out
    assert main(["revoke", "keys"]) == 0
    assert capsys.readouterr().out.strip() == "no revoked DSC"
    kid = issued[0]["kid"]
    assert main(["revoke", "key", kid, "--reason", "key_compromise"]) == 0
    out = capsys.readouterr().out
    assert "revoked 0 certificate(s); 3 were revoked already" in out
    assert f"{kid} was a DSC of this deployment: it no longer signs" in out
    assert read_manifest(deployment / "keys").find(kid).revoked_at is not None
    assert main(["revoke", "keys"]) == 0
    line = capsys.readouterr().out
    assert line.startswith(f"{kid}  key_compromise")
    assert "by cli:" in line
    assert (
        main(["revoke", "account", "cli", "--from", "nope", "--until", "x", "--reason", "fraud"])
        == 2
    )
