"""Bench 6 (SoftHSM2 signer vs file signer) runs end to end and reports its ratio.

It runs in a subprocess: PKCS#11 modules read ``SOFTHSM2_CONF`` once per process, and the
bench makes its own token. Speeds are not asserted."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.softhsm import MODULE

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_bench_6_measures_both_signers_in_one_run(tmp_path: Path) -> None:
    if not MODULE.exists():
        pytest.skip("softhsm2 is not installed: `make system-deps` installs it")
    out = tmp_path / "results.md"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("SOFTHSM2_CONF", None)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "loadtests.bench",
            "--only",
            "7",
            "--batch-ms",
            "1",
            "--out",
            str(out),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    text = out.read_text(encoding="utf-8")
    assert "### 7. Issue with the SoftHSM2 signer (PKCS#11) vs the file signer" in text
    rows = [line for line in text.splitlines() if line.startswith("| issue with")]
    assert len(rows) == 2
    assert " | 1.00x | baseline |" in rows[0]
    assert re.search(r"the PKCS#11 path runs at \d+\.\d\dx the file signer's speed", text)
