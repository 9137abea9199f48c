"""Memory per worker: RSS of each ``dcc serve`` worker after start and after N issues.

Starts ``dcc serve`` (its default server unless ``--server``; ``--workers`` workers; SQLite
register; quotas high enough never to refuse) and records each worker's resident set size
(``VmRSS`` of /proc) once it answers, again after a few thousand issues have warmed every
worker up (first-use imports and caches), and again after ``--issues`` more certificates
over HTTP (wrk, 32 connections, bounded by count in chunks). Target: no worker grows by
more than 10 % from warm to the end.

Run: ``.venv/bin/python -m loadtests.rss [--issues 100000] [--workers 2] [--server NAME]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Final

from loadtests.fixtures import sample_requests
from loadtests.loadgen import run_load
from loadtests.servers import Server, ServerSet

__all__ = ["GROWTH_TARGET", "main", "run", "worker_rss"]

GROWTH_TARGET: Final = 0.10
UNLIMITED: Final = "1000000/second"
_WARM_UP: Final = 2000
_CHUNK_SECONDS: Final = 5.0


def worker_rss(server: Server) -> dict[int, int]:
    """Resident set size (KiB) of every worker process of ``server`` (multiprocessing
    children: cmdline holds ``spawn_main``; the supervisor itself when it has none)."""
    found = subprocess.run(  # noqa: S603
        ["pgrep", "-g", str(server.process.pid)],  # noqa: S607
        capture_output=True,
        text=True,
        check=False,
    )
    sizes: dict[int, int] = {}
    for pid in map(int, found.stdout.split()):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            status = Path(f"/proc/{pid}/status").read_text(encoding="ascii")
        except OSError:
            continue
        if b"spawn_main" in cmdline and b"resource_tracker" not in cmdline:
            sizes[pid] = next(
                int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")
            )
    if not sizes:
        status = Path(f"/proc/{server.process.pid}/status").read_text(encoding="ascii")
        sizes[server.process.pid] = next(
            int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")
        )
    return sizes


def _issue(server: Server, key: str, bodies: list[str], count: int) -> int:
    headers = {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "Authorization": f"Bearer {key}",
    }
    done = 0
    while done < count:
        result = run_load(
            f"{server.url}/v1/certificates",
            headers,
            bodies,
            connections=32,
            duration=_CHUNK_SECONDS,
        )
        if result.non_2xx or result.socket_errors:
            raise RuntimeError(f"{result.non_2xx} non-2xx, {result.socket_errors} socket errors")
        done += result.requests
    return done


def run(*, issues: int, workers: int, server: str | None) -> str:
    """Measure and return the markdown table."""
    bodies = [json.dumps(body, ensure_ascii=False) for body in sample_requests(64)]
    with ServerSet() as started:
        database = started.database()
        key = started.add_account(database, "rss-lab", "lab")
        env = {
            "DCC_DATABASE_URL": database,
            "DCC_RATE_LAB": UNLIMITED,
            "DCC_RATE_GLOBAL": UNLIMITED,
        }
        serving = started.start_dcc("rss", env, workers=workers, server=server)
        cold = worker_rss(serving)
        _issue(serving, key, bodies, _WARM_UP)
        before = worker_rss(serving)
        issued = _issue(serving, key, bodies, issues)
        after = worker_rss(serving)
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    lines = [
        f"`dcc serve --server {server or 'default'} --workers {workers}`; {_WARM_UP:,} issues "
        f"to warm up, then {issued:,} more; load average at the end {load}",
        "",
        "| worker pid | RSS after start (MiB) | after warm-up | after the issues | growth "
        "from warm | target |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for pid, start in sorted(before.items()):
        end = after.get(pid)
        if end is None:
            lines.append(f"| {pid} | | {start / 1024:.1f} | (worker gone) | | **MISS** |")
            continue
        first = cold.get(pid)
        first_text = f"{first / 1024:.1f}" if first is not None else "?"
        growth = end / start - 1
        verdict = "pass" if growth <= GROWTH_TARGET else "**MISS**"
        lines.append(
            f"| {pid} | {first_text} | {start / 1024:.1f} | {end / 1024:.1f} | {growth:+.1%} "
            f"| ≤ {GROWTH_TARGET:.0%}: {verdict} |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Print the RSS table."""
    parser = argparse.ArgumentParser(description="RSS per dcc serve worker before/after issues")
    parser.add_argument("--issues", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--server", default=None)
    args = parser.parse_args(argv)
    print(run(issues=args.issues, workers=args.workers, server=args.server))
    return 0


if __name__ == "__main__":
    sys.exit(main())
