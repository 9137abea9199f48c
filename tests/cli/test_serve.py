"""``dcc serve``: refuses a bad deployment with one line and exit 2; serves on loopback."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

import verifier
from api.server import SERVERS, logging_config
from cli import main
from keys.trust_list import parse_certificates
from tests.accounts import add_account, migrated_sqlite

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("env", "needle"),
    [
        ({"DCC_KEYS_DIR": "{tmp}/no-keys"}, "dcc keys init"),
        ({"DCC_RATE_LAB": "lots"}, "DCC_RATE_LAB"),
        ({"DCC_DATABASE_URL": "sqlite:///{tmp}/empty.sqlite3"}, "dcc db upgrade"),
        ({"DCC_DATABASE_URL": "mysql://x/y"}, "DCC_DATABASE_URL"),
        ({"DCC_COUNTRY": "DE"}, "DCC_COUNTRY is DE but the signing certificate (DSC)"),
        ({"DCC_TRUST_LISTS": "{tmp}/broken.json"}, "broken.json: trust list is not valid JSON"),
    ],
)
def test_bad_deployment_stops_with_one_line_and_exit_2(
    env: dict[str, str],
    needle: str,
    session_keys: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    (tmp_path / "broken.json").write_text("{")
    monkeypatch.setenv("DCC_KEYS_DIR", str(session_keys))
    monkeypatch.setenv("DCC_DATABASE_URL", migrated_sqlite(tmp_path))
    for name, value in env.items():
        monkeypatch.setenv(name, value.format(tmp=tmp_path))
    assert main(["serve", "--port", "1"]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("dcc: error: ")
    assert needle in lines[0]
    assert "Traceback" not in captured.err + captured.out


def test_logging_config_sends_audit_lines_alone_to_stdout() -> None:
    config = logging_config("info")
    assert config["loggers"]["dcc.audit"]["handlers"] == ["audit"]
    assert config["handlers"]["audit"]["stream"] == "ext://sys.stdout"
    assert config["formatters"]["plain"] == {"format": "%(message)s"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.mark.slow
@pytest.mark.parametrize("server_name", SERVERS)
def test_real_server_on_loopback_issues_and_verifies(
    session_keys: Path, tmp_path: Path, make_request: Any, server_name: str
) -> None:
    database = migrated_sqlite(tmp_path)
    key = add_account(database, name="loopback-lab", role="lab").api_key
    port = free_port()
    env = {
        **os.environ,
        "DCC_KEYS_DIR": str(session_keys),
        "DCC_DATABASE_URL": database,
        "DCC_REDIS_URL": "",
    }
    log = (tmp_path / "server.log").open("w+")
    command = [sys.executable, "-c", "import sys; from cli import main; sys.exit(main())"]
    server = subprocess.Popen(
        [*command, "serve", "--host", "127.0.0.1", "--port", str(port), "--server", server_name],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, timeout=5) as client:
            deadline = time.monotonic() + 10
            while True:
                try:
                    if client.get("/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert server.poll() is None, "the server exited"
                assert time.monotonic() < deadline, "no /healthz within 10 s"
                time.sleep(0.05)
            assert client.get("/readyz").json()["status"] == "ready"
            issued = client.post(
                "/v1/certificates",
                json=make_request(),
                headers={"Authorization": f"Bearer {key}"},
            )
            assert issued.status_code == 201
            # granian always sends "server: granian" (no option to omit it: granian#594)
            expected_server = "granian" if server_name == "granian" else None
            assert issued.headers.get("server") == expected_server
            hc1 = issued.json()["hc1"]
            trust = parse_certificates(client.get("/v1/trust-list").content)
            assert verifier.verify(hc1, trust=trust, now=datetime.now(UTC)).valid
            assert client.post("/v1/verify", json={"hc1": hc1}).json()["valid"] is True
            pdf = client.post(
                "/v1/certificates",
                json=make_request(),
                headers={"Authorization": f"Bearer {key}", "Accept": "application/pdf"},
            )
            assert pdf.status_code == 201
            assert pdf.content.startswith(b"%PDF-")
    finally:
        server.terminate()
        server.wait(timeout=10)
    log.seek(0)
    output = log.read()
    log.close()
    assert "dcc serve: keys OK" in output
    audit = [json.loads(line) for line in output.splitlines() if '"certificate_issued"' in line]
    assert len(audit) == 2
    assert audit[0]["uvci"] == issued.json()["uvci"]
    assert "Müller" not in output
    assert "1985-03-02" not in output
