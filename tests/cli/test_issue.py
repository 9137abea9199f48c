"""The operator flow, run as a user runs it: ``dcc keys init`` → ``dcc issue`` → ``dcc trust-list``.

Every command is a real subprocess of the installed ``dcc`` console script, in a scratch
working directory, with every ``DCC_*`` variable of the outer environment removed.
Requests take their sample time from the real clock, so the tests do not age.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import stat
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from tests.accounts import run_on_store
from verifier.qr_read import read_qr

DCC = Path(sys.executable).with_name("dcc")
RESPONSE_KEYS = {"uvci", "hc1", "kid", "issued_at", "expires_at", "certificate"}
PASSPHRASE = "correct horse battery staple"


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str


def clean_env(**extra: str) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("DCC_")}
    env.update(extra)
    return env


def dcc(*args: str, cwd: Path, env: dict[str, str] | None = None) -> Run:
    if not DCC.exists():
        pytest.skip(f"{DCC} is missing: run .venv/bin/pip install -e . first")
    done = subprocess.run(
        [str(DCC), *args],
        cwd=cwd,
        env=env or clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return Run(done.returncode, done.stdout, done.stderr)


def request_json(directory: Path, **test_changes: Any) -> Path:
    sampled = datetime.now(UTC) - timedelta(hours=1)
    local = sampled.astimezone(timezone(timedelta(hours=2))).replace(microsecond=0)
    body = {
        "person": {
            "family_name": "Müller-Schmidt",
            "given_name": "Anna Maria",
            "date_of_birth": "1985-03-02",
        },
        "test": {
            "type": "rapid-antigen",
            "device": "1232",
            "sample_collected_at": local.isoformat(),
            "result": "not-detected",
            "facility": "Pharmacie du Centre, Luxembourg",
            **test_changes,
        },
    }
    path = directory / "request.json"
    path.write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")
    return path


def printed_kid(output: str) -> str:
    lines = [line for line in output.splitlines() if line.startswith("kid: ")]
    assert len(lines) == 1, output
    return lines[0].removeprefix("kid: ")


def dsc_der(keys_dir: Path) -> bytes:
    cert = x509.load_pem_x509_certificate((keys_dir / "dsc.pem").read_bytes())
    return cert.public_bytes(serialization.Encoding.DER)


def assert_one_clean_error_line(run: Run) -> str:
    assert run.code == 2
    assert run.out == ""
    assert "Traceback" not in run.err
    lines = run.err.strip().splitlines()
    assert len(lines) == 1, run.err
    return lines[0]


@dataclass(frozen=True)
class Initialised:
    root: Path
    keys: Path
    run: Run


@pytest.fixture(scope="module")
def initialised(tmp_path_factory: pytest.TempPathFactory) -> Initialised:
    """``dcc keys init`` once for the module (no passphrase)."""
    root = tmp_path_factory.mktemp("cli")
    keys = root / "keys"
    assert dcc("db", "upgrade", cwd=root).code == 0  # var/dcc.sqlite3 under root
    return Initialised(root, keys, dcc("keys", "init", "--dir", str(keys), cwd=root))


@pytest.fixture(scope="module")
def encrypted(tmp_path_factory: pytest.TempPathFactory) -> Initialised:
    """``dcc keys init`` with DCC_KEY_PASSPHRASE set."""
    root = tmp_path_factory.mktemp("cli-encrypted")
    keys = root / "keys"
    env = clean_env(DCC_KEY_PASSPHRASE=PASSPHRASE)
    assert dcc("db", "upgrade", cwd=root).code == 0
    return Initialised(root, keys, dcc("keys", "init", "--dir", str(keys), cwd=root, env=env))


def test_keys_init_prints_the_kid_and_writes_private_keys_0600(initialised: Initialised) -> None:
    run = initialised.run
    assert run.code == 0, run.err
    assert run.err == ""
    for name in ("csca.pem", "csca.key", "dsc.pem", "dsc.key"):
        assert (initialised.keys / name).is_file()
    for name in ("csca.key", "dsc.key"):
        assert stat.S_IMODE((initialised.keys / name).stat().st_mode) == 0o600
        assert b"-----BEGIN PRIVATE KEY-----" in (initialised.keys / name).read_bytes()
    kid = hashlib.sha256(dsc_der(initialised.keys)).digest()[:8]
    assert printed_kid(run.out) == base64.b64encode(kid).decode()


def test_a_reader_that_goes_away_gets_no_traceback(initialised: Initialised) -> None:
    """``dcc issue … | head``: the reader closed the pipe; dcc ends quietly with 141 (SIGPIPE).

    The read end is closed before dcc starts, so its first write to stdout always fails.
    """
    request = request_json(initialised.root)
    env = {
        **clean_env(),
        "DCC_KEYS_DIR": str(initialised.keys),
        "DCC_AUDIT_FILE": str(initialised.root / "audit.log"),
    }
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = subprocess.run(
            [str(DCC), "issue", str(request)],
            cwd=initialised.root,
            env=env,
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        os.close(write_end)
    assert done.stderr == ""
    assert done.returncode == 141


def test_keys_init_refuses_to_overwrite(initialised: Initialised) -> None:
    before = (initialised.keys / "dsc.key").read_bytes()
    run = dcc("keys", "init", "--dir", str(initialised.keys), cwd=initialised.root)
    line = assert_one_clean_error_line(run)
    assert "--force" in line
    assert (initialised.keys / "dsc.key").read_bytes() == before


def test_issue_prints_the_response_and_a_png_that_scans_back(initialised: Initialised) -> None:
    png = initialised.root / "qr.png"
    request = request_json(initialised.root)
    run = dcc(
        "issue",
        "--keys",
        str(initialised.keys),
        str(request),
        "--png",
        str(png),
        cwd=initialised.root,
    )
    assert run.code == 0, run.err
    response = json.loads(run.out)
    assert set(response) == RESPONSE_KEYS
    [audit] = [json.loads(line) for line in run.err.splitlines()]  # the audit line alone
    assert (audit["event"], audit["uvci"], audit["channel"]) == (
        "certificate_issued",
        response["uvci"],
        "cli",
    )
    database = f"sqlite:///{initialised.root / 'var' / 'dcc.sqlite3'}"
    row = run_on_store(database, lambda store: store.register.get(response["uvci"]))
    assert row is not None
    assert (row.account_id, row.channel, row.signature_hash) == (
        "cli",
        "cli",
        audit["signature_hash"],
    )
    assert response["hc1"].startswith("HC1:")
    assert response["kid"] == printed_kid(initialised.run.out)
    assert response["certificate"]["nam"]["fn"] == "Müller-Schmidt"
    assert response["certificate"]["t"][0]["ci"] == response["uvci"]
    issued_at = datetime.fromisoformat(response["issued_at"])
    assert abs(issued_at - datetime.now(UTC)) < timedelta(minutes=2)
    assert datetime.fromisoformat(response["expires_at"]) - issued_at < timedelta(hours=48)
    assert read_qr(png.read_bytes()) == response["hc1"]


def test_issue_reads_the_request_from_stdin(initialised: Initialised) -> None:
    request = request_json(initialised.root)
    done = subprocess.run(
        [str(DCC), "issue", "--keys", str(initialised.keys)],
        input=request.read_text(encoding="utf-8"),
        cwd=initialised.root,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["hc1"].startswith("HC1:")


def test_an_invalid_request_exits_2_with_field_errors_and_no_traceback(
    initialised: Initialised,
) -> None:
    request = request_json(initialised.root, result="detected", device="12x")
    body = json.loads(request.read_text(encoding="utf-8"))
    del body["person"]["date_of_birth"]
    request.write_text(json.dumps(body), encoding="utf-8")
    run = dcc("issue", "--keys", str(initialised.keys), str(request), cwd=initialised.root)
    assert run.code == 2
    assert run.out == ""
    assert "Traceback" not in run.err
    for field in ("person.date_of_birth", "test.result", "test.device"):
        assert field in run.err
    assert "Müller" not in run.err  # no personal data echoed
    assert "1985" not in run.err


def test_missing_keys_exit_2_with_one_line_naming_keys_init(tmp_path: Path) -> None:
    request = request_json(tmp_path)
    run = dcc("issue", "--keys", str(tmp_path / "nowhere"), str(request), cwd=tmp_path)
    line = assert_one_clean_error_line(run)
    assert "dcc keys init" in line


def test_trust_list_lists_the_dsc_with_the_printed_kid(initialised: Initialised) -> None:
    run = dcc("trust-list", "--keys", str(initialised.keys), cwd=initialised.root)
    assert run.code == 0, run.err
    entries = json.loads(run.out)
    assert isinstance(entries, list)
    assert len(entries) == 1
    entry = entries[0]
    assert {"kid", "country", "certificateType", "thumbprint", "rawData"} <= set(entry)
    der = dsc_der(initialised.keys)
    assert entry["kid"] == printed_kid(initialised.run.out)
    assert entry["country"] == "LU"
    assert entry["certificateType"] == "DSC"
    assert entry["thumbprint"] == hashlib.sha256(der).hexdigest()
    assert base64.b64decode(entry["rawData"]) == der


def test_a_passphrase_encrypts_the_keys_and_issuing_uses_it(encrypted: Initialised) -> None:
    assert encrypted.run.code == 0, encrypted.run.err
    for name in ("csca.key", "dsc.key"):
        content = (encrypted.keys / name).read_bytes()
        assert b"-----BEGIN ENCRYPTED PRIVATE KEY-----" in content
        assert stat.S_IMODE((encrypted.keys / name).stat().st_mode) == 0o600
    request = request_json(encrypted.root)
    env = clean_env(DCC_KEY_PASSPHRASE=PASSPHRASE)
    run = dcc("issue", "--keys", str(encrypted.keys), str(request), cwd=encrypted.root, env=env)
    assert run.code == 0, run.err
    assert json.loads(run.out)["kid"] == printed_kid(encrypted.run.out)


@pytest.mark.parametrize("passphrase", ["wrong passphrase", None], ids=["wrong", "missing"])
def test_a_wrong_or_missing_passphrase_exits_2_with_one_line(
    encrypted: Initialised, passphrase: str | None
) -> None:
    request = request_json(encrypted.root)
    env = clean_env() if passphrase is None else clean_env(DCC_KEY_PASSPHRASE=passphrase)
    run = dcc("issue", "--keys", str(encrypted.keys), str(request), cwd=encrypted.root, env=env)
    line = assert_one_clean_error_line(run)
    assert "passphrase" in line
    assert PASSPHRASE not in run.err


def test_a_deeply_nested_request_exits_2_with_one_line(initialised: Initialised) -> None:
    request = initialised.root / "deep.json"
    request.write_text("[" * 30_000 + "]" * 30_000, encoding="ascii")
    run = dcc("issue", "--keys", str(initialised.keys), str(request), cwd=initialised.root)
    assert_one_clean_error_line(run)


def test_an_unwritable_png_path_exits_2_with_one_line(initialised: Initialised) -> None:
    request = request_json(initialised.root)
    png = initialised.root / "missing-folder" / "qr.png"
    run = dcc(
        "issue",
        "--keys",
        str(initialised.keys),
        str(request),
        "--png",
        str(png),
        cwd=initialised.root,
    )
    line = assert_one_clean_error_line(run)
    assert str(png) in line
