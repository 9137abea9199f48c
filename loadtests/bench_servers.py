"""Bench 6: single issue and the PDF over HTTP, today's code vs this code under each ASGI server.

One :class:`~loadtests.servers.ServerSet` runs, side by side on free loopback ports and on
one SQLite register: ``dcc serve`` of a baseline checkout (``--baseline DIR``, e.g. a
worktree of the current main, run with ``PYTHONPATH=DIR`` under its default server) and
``dcc serve`` of this checkout under every server of :data:`api.server.SERVERS`. One worker
each; quotas so high that every request is checked and none refused. Each round loads every
server in turn (interleaved, so a noisy neighbour hits all alike) with single JSON issues,
then with PDF issues. Besides req/s and latency, each run records the **server's CPU time
per request** (user+system of its whole process group, from /proc), which a busy machine
disturbs far less than req/s, and the load average when the run ended. The table gives the
median round per server and product; ratios are against the baseline (else uvicorn).

Run: ``.venv/bin/python -m loadtests.bench_servers [--baseline DIR] [--duration S] [--rounds R]``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from api.server import DEFAULT_SERVER, SERVERS
from loadtests.bench_cli import print_report
from loadtests.fixtures import sample_requests
from loadtests.loadgen import LoadResult, run_load
from loadtests.servers import Server, ServerSet

__all__ = ["ISSUE_TARGET", "PDF_TARGET_RPS", "Run", "main", "render", "report", "run"]

ISSUE_TARGET: Final = 1.3
"""Single issue: at least 1.3x the baseline's req/s, p99 no worse."""
PDF_TARGET_RPS: Final = 300.0
"""PDFs per second through HTTP on the 2-core box (with --workers 2)."""
UNLIMITED: Final = "1000000/second"
_BODIES: Final = 64
_PRODUCTS: Final = {"json": "application/json", "pdf": "application/pdf"}
_CONNECTIONS: Final = {"json": 32, "pdf": 8}


@dataclass(frozen=True, slots=True)
class Run:
    """One load run of one server and product."""

    load: LoadResult
    cpu_per_request_us: float
    load_average: float


def _group_cpu_seconds(server: Server) -> float:
    """User+system CPU seconds of every process in the server's process group."""
    found = subprocess.run(  # noqa: S603
        ["pgrep", "-g", str(server.process.pid)],  # noqa: S607
        capture_output=True,
        text=True,
        check=False,
    )
    total = 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    for pid in found.stdout.split():
        try:
            with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def run(
    *,
    baseline: Path | None,
    duration: float = 6.0,
    rounds: int = 3,
    workers: int = 1,
    servers: Sequence[str] = SERVERS,
) -> dict[tuple[str, str], list[Run]]:
    """Start the servers, load each ``rounds`` times per product; return the runs."""
    bodies = [json.dumps(body, ensure_ascii=False) for body in sample_requests(_BODIES)]
    runs: dict[tuple[str, str], list[Run]] = {}
    with ServerSet() as started:
        database = started.database()
        key = started.add_account(database, "bench-pharmacy", "pharmacist")
        env = {
            "DCC_DATABASE_URL": database,
            "DCC_RATE_PHARMACIST": UNLIMITED,
            "DCC_RATE_GLOBAL": UNLIMITED,
        }
        targets: list[tuple[str, Server, str]] = []
        if baseline is not None:
            base_env, base_key = _baseline_database(started, baseline, env)
            base = started.start_dcc("base", base_env, workers=workers)
            targets.append(("baseline", base, base_key))
        here = {**env, "PYTHONPATH": str(Path.cwd())}
        for name in servers:
            server = started.start_dcc(name, here, workers=workers, server=name)
            targets.append((name, server, key))
        for _ in range(rounds):
            for product, accept in _PRODUCTS.items():
                for name, server, target_key in targets:
                    headers = {
                        "Content-Type": "application/json",
                        "Accept": accept,
                        "Authorization": f"Bearer {target_key}",
                    }
                    before = _group_cpu_seconds(server)
                    load = run_load(
                        f"{server.url}/v1/certificates",
                        headers,
                        bodies,
                        connections=_CONNECTIONS[product],
                        duration=duration,
                    )
                    cpu = _group_cpu_seconds(server) - before
                    per_request = cpu / load.requests * 1e6 if load.requests else 0.0
                    runs.setdefault((name, product), []).append(
                        Run(load, per_request, os.getloadavg()[0])
                    )
    return runs


def _baseline_database(
    started: ServerSet, baseline: Path, env: dict[str, str]
) -> tuple[dict[str, str], str]:
    """The baseline's own database, at the baseline's schema (it refuses a newer one), with
    an account made by the baseline's code; its environment and the account's key."""
    database = f"sqlite:///{started.root / 'baseline.sqlite3'}"
    base_env = {**os.environ, **env, "DCC_DATABASE_URL": database, "PYTHONPATH": str(baseline)}
    dcc = [sys.executable, "-c", "import sys, cli; sys.exit(cli.main())"]
    for args in (["db", "upgrade"], ["accounts", "add", "--name", "bench", "--role", "pharmacist"]):
        done = subprocess.run(  # noqa: S603 (our interpreter, the baseline's code)
            [*dcc, *args], check=True, capture_output=True, text=True, env=base_env, cwd=baseline
        )
    key = done.stdout.strip().splitlines()[-1]
    return {**env, "DCC_DATABASE_URL": database, "PYTHONPATH": str(baseline)}, key


def _median(runs: Sequence[Run]) -> Run:
    ordered = sorted(runs, key=lambda one: one.load.rps)
    return ordered[len(ordered) // 2]


def render(runs: dict[tuple[str, str], list[Run]], *, workers: int) -> tuple[str, bool]:
    """The markdown table and whether the single-issue target passes."""
    names = list(dict.fromkeys(name for name, _ in runs))
    reference = "baseline" if "baseline" in names else DEFAULT_SERVER
    any_run = next(iter(runs.values()))[0]
    loads = [one.load_average for series in runs.values() for one in series]
    lines = [
        f"load: {any_run.load.generator}, {_CONNECTIONS['json']} connections (json), "
        f"{_CONNECTIONS['pdf']} (pdf), {len(runs[(names[0], 'json')])} "
        f"interleaved rounds of {any_run.load.seconds:.0f} s; {workers} worker(s) per server; "
        f"SQLite register; load average over the runs {min(loads):.2f}-{max(loads):.2f} "
        f"(median {statistics.median(loads):.2f})",
        "",
        "| server | product | req/s (median round) | min | max | p50 ms | p99 ms | CPU µs/req "
        "| non-2xx / errors | load avg | req/s vs ref | CPU/req vs ref | target |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    ok = True
    for product in _PRODUCTS:
        ref = _median(runs[(reference, product)])
        for name in names:
            series = runs[(name, product)]
            median = _median(series)
            rates = [one.load.rps for one in series]
            failures = sum(one.load.non_2xx + one.load.socket_errors for one in series)
            ratio = median.load.rps / ref.load.rps if ref.load.rps else 0.0
            cpu_ratio = (
                median.cpu_per_request_us / ref.cpu_per_request_us
                if ref.cpu_per_request_us
                else 0.0
            )
            target = ""
            if product == "json" and name == DEFAULT_SERVER and reference == "baseline":
                passed = (
                    ratio >= ISSUE_TARGET and median.load.p99_ms <= ref.load.p99_ms and not failures
                )
                ok = ok and passed
                target = f"≥ {ISSUE_TARGET}x, p99 ≤ ref: {'pass' if passed else '**MISS**'}"
            lines.append(
                f"| {name} | {product} | {median.load.rps:,.0f} | {min(rates):,.0f} "
                f"| {max(rates):,.0f} | {median.load.p50_ms:.2f} | {median.load.p99_ms:.2f} "
                f"| {median.cpu_per_request_us:,.0f} | {failures} | {median.load_average:.2f} "
                f"| {ratio:.2f}x | {cpu_ratio:.2f}x | {target} |"
            )
    return "\n".join(lines), ok


TITLE: Final = "9. HTTP single issue and PDF: baseline vs this code under each ASGI server"


def report(
    *,
    baseline: Path | None = None,
    duration: float | None = None,
    rounds: int = 3,
    workers: int = 1,
) -> tuple[str, bool]:
    """Run bench 6 and return its markdown section and whether the target passes."""
    if baseline is None and os.environ.get("DCC_BENCH_BASELINE"):
        baseline = Path(os.environ["DCC_BENCH_BASELINE"])
    runs = run(baseline=baseline, duration=duration or 6.0, rounds=rounds, workers=workers)
    table, ok = render(runs, workers=workers)
    return f"### {TITLE}\n\n{table}", ok


def main(argv: Sequence[str] | None = None) -> int:
    """Print bench 6's table (targets recorded, not enforced)."""
    parser = argparse.ArgumentParser(description=TITLE)
    parser.add_argument(
        "--baseline",
        type=Path,
        default=None,
        help="checkout of today's code (default: $DCC_BENCH_BASELINE; none: ratios vs uvicorn)",
    )
    parser.add_argument("--duration", type=float, default=6.0, help="seconds per load run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args(argv)
    text, ok = report(
        baseline=args.baseline, duration=args.duration, rounds=args.rounds, workers=args.workers
    )
    return print_report(text, ok)


if __name__ == "__main__":
    sys.exit(main())
