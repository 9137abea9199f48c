"""Bench 6: issue throughput with the SoftHSM2 signer (PKCS#11) vs the file signer, same run.

Both rows run :meth:`~issuer.issuer.Issuer.prepare` then :meth:`~issuer.issuer.Issuer.try_sign`
on the same validated requests, each with the issuing runtime the service builds: the file
row from a keys directory of ``dcc keys init``, the SoftHSM row from one whose active DSC
was made in a SoftHSM2 token (``dcc keys rotate --pkcs11``, token initialised in a temporary
directory). SoftHSM is software: the ratio measures what the PKCS#11 path costs (the C
calls, the session, the module lock, the software digest), not a real HSM's speed. No target:
the ratio is recorded.

Run: ``.venv/bin/python -m loadtests.bench_hsm [--duration S]`` (needs Debian's softhsm2).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from api.issuing_runtime import build_issuing_runtime
from api.keyring import open_token
from api.settings import Settings
from keys.lifecycle import rotate_dsc
from loadtests.bench_cli import bench_main, measure_table
from loadtests.fixtures import Cycle, make_keys, sample_requests
from loadtests.timing import DEFAULT_BATCH_SECONDS, Stage, Timing
from signing.pkcs11 import generate_token_key

__all__ = ["BASELINE", "SOFTHSM_MODULE", "TITLE", "main", "run"]

TITLE: Final = "7. Issue with the SoftHSM2 signer (PKCS#11) vs the file signer"
BASELINE: Final = "issue with the file signer (LocalSigner)"
SOFTHSM_MODULE: Final = Path("/usr/lib/softhsm/libsofthsm2.so")
_REQUESTS: Final = 64
_TOKEN: Final = "dcc-bench"  # noqa: S105 - a token label
_KEY_LABEL: Final = "bench-dsc"
_PIN: Final = "1234"


@contextmanager
def softhsm_token(root: Path) -> Iterator[Settings]:
    """A SoftHSM2 token in ``root`` (SOFTHSM2_CONF set for this process); its settings."""
    util = shutil.which("softhsm2-util")
    if util is None or not SOFTHSM_MODULE.exists():
        raise SystemExit("bench 6 needs Debian's softhsm2 (make system-deps)")
    tokens = root / "tokens"
    tokens.mkdir()
    conf = root / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {tokens}\nobjectstore.backend = file\n")
    os.environ["SOFTHSM2_CONF"] = str(conf)
    init = [util, "--init-token", "--free", "--label", _TOKEN, "--pin", _PIN, "--so-pin", "5678"]
    subprocess.run(init, check=True, capture_output=True)  # noqa: S603 - our own command
    yield Settings(pkcs11_module=SOFTHSM_MODULE, pkcs11_token=_TOKEN, pkcs11_pin=_PIN)


def _stages(root: Path, requests: int) -> list[Stage]:
    file_keys = make_keys(root / "file")
    hsm_keys = make_keys(root / "hsm")
    with softhsm_token(root) as hsm_settings:
        public = generate_token_key(open_token(hsm_settings), "ES256", _KEY_LABEL)
        now = datetime.now(UTC)
        rotate_dsc(hsm_keys, activates_at=now, public_key=public, token_key_label=_KEY_LABEL)
        hsm = build_issuing_runtime(replace(hsm_settings, keys_dir=hsm_keys)).issuer
    local = build_issuing_runtime(Settings(keys_dir=file_keys)).issuer
    bodies = sample_requests(requests, now=datetime.now(UTC))
    validated = [local.validate(body) for body in bodies]
    file_cycle, hsm_cycle = Cycle(validated), Cycle(validated)
    return [
        Stage(BASELINE, lambda: local.try_sign(local.prepare(file_cycle.next()))),
        Stage(
            "issue with the SoftHSM2 signer (PKCS#11: software SHA-256, CKM_ECDSA)",
            lambda: hsm.try_sign(hsm.prepare(hsm_cycle.next())),
        ),
    ]


def run(
    *,
    duration: float | None = None,
    batch_seconds: float = DEFAULT_BATCH_SECONDS,
    requests: int = _REQUESTS,
) -> tuple[str, bool, list[Timing]]:
    """Measure bench 6; return its markdown table, True (no target), and the timings."""
    with tempfile.TemporaryDirectory(prefix="dcc-bench-hsm-") as tmp:
        stages = _stages(Path(tmp), requests)
        table, ok, timings = measure_table(
            stages, BASELINE, duration=duration, batch_seconds=batch_seconds
        )
    file_median, hsm_median = timings[0].median, timings[1].median
    table += (
        f"\n\nThroughput: file signer {1 / file_median:,.0f}/s, SoftHSM2 signer "
        f"{1 / hsm_median:,.0f}/s per thread: the PKCS#11 path runs at "
        f"{file_median / hsm_median:.2f}x the file signer's speed."
    )
    return table, ok, timings


def main(argv: Sequence[str] | None = None) -> int:
    """Print bench 6's table."""
    return bench_main(argv, title=TITLE, run=run, count="requests", count_default=_REQUESTS)


if __name__ == "__main__":
    sys.exit(main())
