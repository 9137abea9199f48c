"""``dcc verify``: HC1 arguments, text and image files, stdin, --json, exit codes 0/1/2."""

from __future__ import annotations

import argparse
import io
import json
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization

from cli import verify as verify_cli
from hcert.valuesets import DeviceRegistry
from issuer.issuer import Issuer, IssuerConfig
from issuer.render.qr import render_png
from keys.generate import generate_keys
from keys.load import load_signing_keys
from keys.trust_list import export_trust_list
from signing.pool import SignerPool
from signing.signer import LocalSigner

NOW = datetime(2021, 7, 8, 12, 31, tzinfo=UTC)
REQUEST = {
    "person": {"family_name": "Muster", "given_name": "Anna", "date_of_birth": "1985-03-02"},
    "test": {
        "type": "rapid-antigen",
        "device": "1232",
        "result": "not-detected",
        "sample_collected_at": "2021-07-08T12:00:00Z",
    },
}
AT = "2021-07-08T13:00:00Z"


class Setup:
    def __init__(self, folder: Path) -> None:
        generate_keys(folder / "keys", now=NOW - timedelta(days=1))
        keys = load_signing_keys(folder / "keys", now=NOW)
        issuer = Issuer(
            IssuerConfig(),
            pool=SignerPool([LocalSigner(keys.private_key, keys.kid)]),
            devices=DeviceRegistry.format_only(),
            not_after=keys.not_after,
            clock=lambda: NOW,
        )
        self.hc1 = issuer.issue(REQUEST).hc1
        self.pem = folder / "dsc.pem"
        self.pem.write_bytes(keys.certificate.public_bytes(serialization.Encoding.PEM))
        self.der = folder / "dsc.der"
        self.der.write_bytes(keys.certificate.public_bytes(serialization.Encoding.DER))
        self.trust_json = folder / "trust.json"
        self.trust_json.write_text(json.dumps(export_trust_list([keys.certificate])))
        self.text = folder / "cert.txt"
        self.text.write_text(self.hc1 + "\n")
        self.png = folder / "cert.png"
        self.png.write_bytes(render_png(self.hc1))


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Setup:
    return Setup(tmp_path_factory.mktemp("cli"))


def run(arguments: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser(prog="dcc")
    verify_cli.register(parser.add_subparsers())
    args = parser.parse_args(["verify", *arguments])
    code: int = args.handler(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_valid_hc1_argument_text_file_and_image(
    setup: Setup, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["--trust", str(setup.pem), "--at", AT, setup.hc1], capsys) == (0, "VALID\n", "")
    code, out, _ = run(
        ["--trust", str(setup.der), "--at", AT, str(setup.text), str(setup.png)], capsys
    )
    assert code == 0
    assert out.splitlines() == [f"{setup.text}: VALID", f"{setup.png}: VALID"]


def test_json_one_line_per_input(setup: Setup, capsys: pytest.CaptureFixture[str]) -> None:
    long_name = "HC2:" + "A" * 300 + "/" + "B" * 300  # too long for a file name
    code, out, _ = run(
        [
            "--json",
            "--trust",
            str(setup.trust_json),
            "--at",
            AT,
            setup.hc1,
            "HC2:" + setup.hc1[4:],
            str(setup.png),
            long_name,
        ],
        capsys,
    )
    assert code == 1
    reports: list[dict[str, Any]] = [json.loads(line) for line in out.splitlines()]
    assert [r["valid"] for r in reports] == [True, False, True, False]
    assert reports[1]["error"]["code"] == "prefix_invalid"
    assert reports[3]["error"]["code"] == "prefix_invalid"
    assert reports[0]["certificate"]["t"][0]["ma"] == "1232"


def test_invalid_summary_and_profiles(setup: Setup, capsys: pytest.CaptureFixture[str]) -> None:
    late = "2021-07-09T13:00:00"  # no offset: UTC; 25 h after the sample
    assert run(["--trust", str(setup.pem), "--at", late, setup.hc1], capsys)[0] == 0
    code, out, _ = run(
        ["--trust", str(setup.pem), "--at", late, "--profile", "LU_2021_12", setup.hc1], capsys
    )
    assert code == 1
    assert out.startswith("INVALID: rules: the test is older than 24 h")
    code, out, _ = run(
        ["--trust", str(setup.pem), "--at", "2021-07-20T00:00:00Z", setup.hc1], capsys
    )
    assert (code, out.split(":")[:2]) == (1, ["INVALID", " expiry"])


def test_stdin(
    setup: Setup, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(setup.png.read_bytes())))
    assert run(["--trust", str(setup.pem), "--at", AT, "-"], capsys)[:2] == (0, "VALID\n")


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["HC1:X"], "no trusted certificate"),
        (["--trust", "/nonexistent/dsc.pem", "HC1:X"], "cannot read trust file"),
        (["--trust", "{pem}", "--at", "yesterday", "HC1:X"], "--at"),
        (["--trust", "{pem}", "/nonexistent/cert.png"], "cannot read input"),
        (["--trust", "{text}", "HC1:X"], "trust file"),
    ],
)
def test_usage_errors(
    setup: Setup, capsys: pytest.CaptureFixture[str], arguments: list[str], message: str
) -> None:
    filled = [a.format(pem=setup.pem, text=setup.text) for a in arguments]
    code, out, err = run(filled, capsys)
    assert (code, out) == (2, "")
    assert err.count("\n") == 1
    assert message in err


def test_dcc_command(setup: Setup) -> None:
    dcc = Path(sys.executable).with_name("dcc")
    if not dcc.exists() and shutil.which("dcc") is None:
        pytest.skip("the dcc console script is not installed")
    command = [str(dcc), "verify", "--trust", str(setup.pem), "--at", AT]
    done = subprocess.run(
        [*command, setup.hc1, str(setup.png)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("VALID") == 2
    bad = subprocess.run(
        [*command, "HC1:ABC"], capture_output=True, text=True, timeout=60, check=False
    )
    assert (bad.returncode, bad.stdout.startswith("INVALID: ")) == (1, True)
    usage = subprocess.run(
        [str(dcc), "verify", "HC1:ABC"], capture_output=True, text=True, timeout=60, check=False
    )
    assert usage.returncode == 2
    assert "no trusted certificate" in usage.stderr
