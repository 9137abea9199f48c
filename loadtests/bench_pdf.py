"""Bench 7: the printable PDF in-process, with the self-check, against its 10 ms target.

Stages, each over the same certificates (realistic names from :func:`sample_requests`,
Latin, Greek and Cyrillic among them, so the font-subset cache sees several page sets):
the PDF as the service makes it (:class:`api.render_check.CheckedRenderer`: the QR PNG is
read back with zxing-cpp, then embedded), the PDF without the self-check, and the QR PNG
alone for scale. Before timing, every PDF's embedded QR image is read back. Target: median
≤ 10 ms per PDF, self-check included.

Run: ``.venv/bin/python -m loadtests.bench_pdf [--duration S]``.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from typing import Final

from api.render_check import CheckedRenderer
from issuer.render.pdf import render_pdf
from issuer.render.qr import render_png
from loadtests.bench_cli import temporary_keys
from loadtests.fixtures import Cycle, issuing_runtime, sample_requests
from loadtests.timing import DEFAULT_BATCH_SECONDS, Stage, Timing, batches_for, measure

__all__ = ["PDF_TARGET_MS", "TITLE", "main", "run"]

TITLE: Final = "8. Printable PDF in-process: render + self-check vs the 10 ms target"
PDF_TARGET_MS: Final = 10.0
_CERTIFICATES: Final = 32
_TIMEZONE: Final = "Europe/Luxembourg"


def _failed(kind: str) -> None:
    raise SystemExit(f"a {kind} QR image did not read back")


def run(
    *, duration: float | None = None, batch_seconds: float = DEFAULT_BATCH_SECONDS
) -> tuple[str, bool, list[Timing]]:
    """Time the stages; return the markdown table, whether the target passes, the timings."""
    with temporary_keys("pdf") as keys:
        issuer = issuing_runtime(keys).issuer
        issued = [issuer.issue(body) for body in sample_requests(_CERTIFICATES)]
    renderer = CheckedRenderer(_failed)
    for one in issued:  # the self-check raises (SystemExit) on a bad image
        renderer.render(one, "pdf", timezone=_TIMEZONE)
    checked, plain, png = Cycle(issued), Cycle(issued), Cycle(issued)
    stages = [
        Stage(
            "PDF with self-check (as served)",
            lambda: renderer.render(checked.next(), "pdf", timezone=_TIMEZONE),
        ),
        Stage("PDF without self-check", lambda: render_pdf(plain.next(), timezone=_TIMEZONE)),
        Stage("QR PNG alone (4 px/module)", lambda: render_png(png.next().hc1)),
    ]
    batches = batches_for(duration, len(stages), batch_seconds)
    timings = measure(stages, batches=batches, batch_seconds=batch_seconds)
    cpu = measure(stages, batches=batches, batch_seconds=batch_seconds, clock=time.thread_time)
    lines = [
        "Wall time per PDF (the target), and CPU time of the rendering thread (which a busy "
        "machine inflates far less: on a quiet one the two agree).",
        "",
        "| stage | median ms | min ms | max ms | CPU median ms | target | result |",
        "|---|---:|---:|---:|---:|---|---|",
    ]
    ok = True
    for timing, thread in zip(timings, cpu, strict=True):
        target = result = ""
        if timing is timings[0]:
            ok = timing.median * 1000 <= PDF_TARGET_MS
            target, result = f"≤ {PDF_TARGET_MS:.0f} ms", "pass" if ok else "**MISS**"
        lines.append(
            f"| {timing.name} | {timing.median * 1000:.2f} | {timing.minimum * 1000:.2f} "
            f"| {timing.maximum * 1000:.2f} | {thread.median * 1000:.2f} | {target} | {result} |"
        )
    return "\n".join(lines), ok, timings


def main(argv: Sequence[str] | None = None) -> int:
    """Print bench 7's table."""
    import argparse

    parser = argparse.ArgumentParser(description=TITLE)
    parser.add_argument("--duration", type=float, default=None)
    args = parser.parse_args(argv)
    table, ok, _ = run(duration=args.duration)
    print(f"### {TITLE}\n\n{table}\n\ntargets: {'all pass' if ok else 'MISSED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
