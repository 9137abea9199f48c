"""``make bench``: every benchmark, each printing its table of medians and ratios.

By default the in-process benches run (1 issue, 2 verify, 3 QR PNG, 7 issue with the
SoftHSM2 signer vs the file signer, 8 printable PDF); ``--http`` adds the HTTP ones (4 single
issue through ``dcc serve`` vs a bare endpoint, in-process and Redis limiting; 5 batch
throughput and single-request p99 under batches; 6 the issuance register's cost against the
code before it; 9 single issue and PDF under each ASGI server vs a baseline checkout named
by ``$DCC_BENCH_BASELINE``), which start their own servers on free loopback ports and stop
them again. The machine may be shared and noisy: every table is followed by the load average
measured before and after it, so a reader knows how much to trust it.
``--only`` picks benches by number.
The output is markdown (``--out`` also writes it to a file); targets are recorded, never
enforced: the exit code is 0 unless a bench could not run.

Run: ``.venv/bin/python -m loadtests.bench [--http] [--duration S] [--out FILE]``.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from loadtests import bench_hsm, bench_issue, bench_pdf, bench_qr, bench_verify
from loadtests.timing import DEFAULT_BATCH_SECONDS

__all__ = ["load_average", "machine_summary", "main"]

IN_PROCESS: Final = (1, 2, 3, 7, 8)
HTTP: Final = (4, 5, 6, 9)


def machine_summary() -> str:
    """One line about where the numbers come from (CPU, cores, load, Python)."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    return (
        f"{cpu}, {os.cpu_count()} CPUs, load average {load}, "
        f"Python {platform.python_version()}, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    )


def _in_process(number: int, duration: float | None, batch_seconds: float) -> tuple[str, bool]:
    runners: dict[int, tuple[str, Callable[..., tuple[str, bool, object]]]] = {
        1: (bench_issue.TITLE, bench_issue.run),
        2: (bench_verify.TITLE, bench_verify.run),
        3: (bench_qr.TITLE, bench_qr.run),
        7: (bench_hsm.TITLE, bench_hsm.run),
        8: (bench_pdf.TITLE, bench_pdf.run),
    }
    title, runner = runners[number]
    table, ok, _ = runner(duration=duration, batch_seconds=batch_seconds)
    return f"### {title}\n\n{table}", ok


def load_average() -> str:
    """The 1, 5 and 15 minute load averages, as one string."""
    return ", ".join(f"{value:.2f}" for value in os.getloadavg())


def _http(number: int, duration: float | None) -> tuple[str, bool]:
    if number == 9:
        from loadtests import bench_servers

        return bench_servers.report(duration=duration)
    if number == 4:
        from loadtests import bench_http

        return bench_http.report(duration=duration)
    if number == 6:
        from loadtests import bench_register

        return bench_register.report(duration=duration or 8.0)
    from loadtests import bench_batch

    return bench_batch.report(duration=duration)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the chosen benches and print (and optionally write) their markdown."""
    parser = argparse.ArgumentParser(description="dcc-service benchmarks (make bench)")
    parser.add_argument(
        "--http", action="store_true", help="also run the HTTP benches 4, 5, 6 and 9"
    )
    parser.add_argument(
        "--only", type=int, action="append", choices=(*IN_PROCESS, *HTTP), help="bench number"
    )
    parser.add_argument(
        "--duration",
        type=float,
        default=None,
        help="seconds per bench: timed batches in-process, load time per HTTP run",
    )
    parser.add_argument("--batch-ms", type=float, default=DEFAULT_BATCH_SECONDS * 1000)
    parser.add_argument("--out", type=Path, default=None, help="also write the markdown here")
    args = parser.parse_args(argv)
    chosen = args.only or [*IN_PROCESS, *(HTTP if args.http else ())]
    sections = [f"Machine: {machine_summary()}"]
    print(sections[0], flush=True)
    missed: list[int] = []
    for number in chosen:
        started = time.monotonic()
        load_before = load_average()
        if number in IN_PROCESS:
            text, ok = _in_process(number, args.duration, args.batch_ms / 1000)
        else:
            text, ok = _http(number, args.duration)
        if not ok:
            missed.append(number)
        text += (
            f"\n\n({time.monotonic() - started:.0f} s; load average 1/5/15 min before "
            f"{load_before}, after {load_average()} on {os.cpu_count()} CPUs)"
        )
        sections.append(text)
        print(f"\n{text}", flush=True)
    summary = "targets: all pass" if not missed else f"targets missed in bench {missed}"
    sections.append(summary)
    print(f"\n{summary}")
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text("\n\n".join(sections) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
