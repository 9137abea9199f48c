"""Bench 3: QR PNG of an HC1 with our renderer vs ``qrcode``'s own PNG, and both scan.

Ours is :func:`issuer.render.qr.render_png` (libzint through zxing-cpp builds the matrix, Pillow
writes a 1-bit PNG: level Q, 4 px per module, 4-module quiet zone). The baseline is
:func:`issuer.render.qr.render_png_reference`: ``qrcode`` with its default pipeline (automatic
mask choice in pure Python, its PIL image writer) at the same level, scale and border, so
the two images are alike. One more row gives ``qrcode.make(hc1)`` with every default
(level M, 10 px per module) for information. Before timing, every image of every HC1 is
read back with zxing-cpp and must give the exact HC1 text.

Run: ``.venv/bin/python -m loadtests.bench_qr [--duration S]``.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

import qrcode

from issuer.render.qr import render_png, render_png_reference
from loadtests.bench_cli import bench_main, measure_table, temporary_keys
from loadtests.fixtures import Cycle, issuing_runtime, sample_requests
from loadtests.timing import DEFAULT_BATCH_SECONDS, Comparison, Stage, Timing
from verifier.qr_read import read_qr

__all__ = [
    "BASELINE",
    "QR_TARGET",
    "TITLE",
    "check_scans",
    "main",
    "qrcode_default_png",
    "run",
]

TITLE: Final = "3. QR PNG: our renderer vs qrcode's PNG for the same HC1"
BASELINE: Final = "qrcode PNG (level Q, 4 px, automatic mask, PIL writer)"
QR_TARGET: Final = Comparison(0.10)  # at least 10x faster
_CERTIFICATES: Final = 16


def qrcode_default_png(text: str) -> bytes:
    """``qrcode.make(text)`` saved as PNG: every default of the library (level M, 10 px)."""
    out = io.BytesIO()
    qrcode.make(text).save(out)
    return out.getvalue()


def check_scans(hc1s: Sequence[str], renderers: dict[str, Callable[[str], bytes]]) -> str:
    """Read every image back; return a summary line or raise SystemExit on a mismatch."""
    sizes: dict[str, list[int]] = {name: [] for name in renderers}
    for hc1 in hc1s:
        for name, render in renderers.items():
            png = render(hc1)
            if read_qr(png) != hc1:
                raise SystemExit(f"bench_qr: the {name} image does not scan back to its HC1")
            sizes[name].append(len(png))
    parts = [
        f"{name}: {len(hc1s)}/{len(hc1s)} scan, PNG {min(s):,}-{max(s):,} B"
        for name, s in sizes.items()
    ]
    return "; ".join(parts)


def _hc1s(keys_dir: Path, count: int) -> list[str]:
    issuer = issuing_runtime(keys_dir).issuer
    return [issuer.issue(body).hc1 for body in sample_requests(count, now=datetime.now(UTC))]


def run(
    *,
    duration: float | None = None,
    batch_seconds: float = DEFAULT_BATCH_SECONDS,
    certificates: int = _CERTIFICATES,
) -> tuple[str, bool, list[Timing]]:
    """Measure bench 3; return the scan summary and table, whether targets pass, timings."""
    with temporary_keys("qr") as keys_dir:
        hc1s = _hc1s(keys_dir, certificates)
    renderers: dict[str, Callable[[str], bytes]] = {
        "ours": render_png,
        "qrcode reference": render_png_reference,
        "qrcode.make defaults": qrcode_default_png,
    }
    scans = check_scans(hc1s, renderers)
    ours, reference, default = Cycle(hc1s), Cycle(hc1s), Cycle(hc1s)
    stages = [
        Stage(BASELINE, lambda: render_png_reference(reference.next())),
        Stage(
            "ours: render_png (zxing-cpp matrix, Pillow 1-bit PNG)",
            lambda: render_png(ours.next()),
            QR_TARGET,
        ),
        Stage(
            "qrcode.make(hc1).save (all defaults: level M, 10 px)",
            lambda: qrcode_default_png(default.next()),
        ),
    ]
    table, ok, timings = measure_table(
        stages, BASELINE, duration=duration, batch_seconds=batch_seconds
    )
    return f"scan check: {scans}\n\n{table}", ok, timings


def main(argv: Sequence[str] | None = None) -> int:
    """Print bench 3's table; exit 0 (targets are recorded, not enforced here)."""
    return bench_main(argv, title=TITLE, run=run, count="certificates", count_default=_CERTIFICATES)


if __name__ == "__main__":
    sys.exit(main())
