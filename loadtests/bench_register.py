"""Bench 6: what the issuance register costs over HTTP (single issue and batches).

Three ``dcc serve`` processes run side by side on free loopback ports, same keys, same
uvicorn settings, in-process quotas set so high that none refuses:

* **without the register**: the code as it was before the register (``--baseline-ref``,
  by default the last commit before it), checked out as a git worktree under
  ``var/bench/`` and served from there (accounts from its JSON file, nothing recorded);
* **PostgreSQL register**: today's code on a private PostgreSQL cluster (fsync on), every
  certificate's row committed (group commit) before it is answered;
* **SQLite register** (informational): today's code on the embedded default.

One load generator loads each server in turn, several interleaved rounds, first single
issues (``POST /v1/certificates``), then batches of ``--batch-size`` items; the table
gives the median round and the ratio against the server without the register. Every
answer must be 2xx. Targets: single >= 0.85x, batch certificates/s >= 0.80x.

Run: ``.venv/bin/python -m loadtests.bench_register [--duration S] [--rounds R]``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from loadtests.bench_cli import print_report
from loadtests.fixtures import sample_requests
from loadtests.loadgen import LoadResult, generator_name, run_load
from loadtests.servers import Server, ServerSet

__all__ = ["BASELINE_REF", "TARGETS", "main", "report"]

BASELINE_REF: Final = "2abbfc1"  # the last commit before the issuance register
WITHOUT: Final = "without register (code before it)"
POSTGRES: Final = "PostgreSQL register"
SQLITE: Final = "SQLite register (informational)"
TARGETS: Final = {"single": 0.85, "batch": 0.80}
_UNLIMITED: Final = "1000000/second"
_REPO: Final = Path(__file__).resolve().parent.parent


@dataclass(frozen=True, slots=True)
class Series:
    """One server's runs for one kind of load (single or batch)."""

    server: str
    kind: str
    items_per_request: int
    runs: tuple[LoadResult, ...]

    def median(self) -> LoadResult:
        """The run with the median throughput."""
        return sorted(self.runs, key=lambda run: run.rps)[len(self.runs) // 2]

    def certificates_per_second(self) -> float:
        """Certificates issued per second in the median run."""
        return self.median().rps * self.items_per_request


def baseline_checkout(ref: str) -> Path:
    """A worktree of ``ref`` under var/bench (made once; reused while it exists)."""
    path = _REPO / "var" / "bench" / f"baseline-{ref}"
    if not (path / "cli").is_dir():
        git = shutil.which("git")
        if git is None:
            raise RuntimeError("git is needed to check out the baseline")
        subprocess.run(  # noqa: S603 (git, our repository)
            [git, "-C", str(_REPO), "worktree", "add", "--force", "--detach", str(path), ref],
            check=True,
            capture_output=True,
        )
    return path


def _baseline_dcc(args: Sequence[str]) -> list[str]:
    code = "import sys, cli; sys.exit(cli.main())"
    return [sys.executable, "-c", code, *args]


def start_baseline(servers: ServerSet, checkout: Path, env: dict[str, str]) -> tuple[Server, str]:
    """Serve the pre-register code; returns the server and an account key."""
    accounts = servers.root / "baseline-accounts.json"
    baseline_env = {**os.environ, **env, "PYTHONPATH": str(checkout)}
    add = ["accounts", "add", "--name", "bench-lab", "--role", "lab", "--file", str(accounts)]
    result = subprocess.run(  # noqa: S603
        _baseline_dcc(add),
        check=True,
        capture_output=True,
        text=True,
        env=baseline_env,
        cwd=checkout,
    )
    key = result.stdout.strip().splitlines()[-1]
    server_env = {**env, "PYTHONPATH": str(checkout), "DCC_ACCOUNTS_FILE": str(accounts)}
    server = servers.start_dcc("dcc-without-register", server_env, workers=1)
    return server, key


def run(
    *, duration: float, rounds: int, batch_size: int, connections: int, ref: str
) -> list[Series]:
    """Start the three servers, load each in interleaved rounds; return the series."""
    checkout = baseline_checkout(ref)
    singles = [json.dumps(body, ensure_ascii=False) for body in sample_requests(64)]
    items = sample_requests(batch_size)
    batches = [json.dumps({"items": items[i:] + items[:i]}, ensure_ascii=False) for i in (0, 1)]
    env = {"DCC_RATE_LAB": _UNLIMITED, "DCC_RATE_GLOBAL": _UNLIMITED}
    with ServerSet() as servers:
        without, old_key = start_baseline(servers, checkout, env)
        targets: list[tuple[str, Server, str]] = [(WITHOUT, without, old_key)]
        for name, url in ((POSTGRES, servers.start_postgres()), (SQLITE, servers.database())):
            key = servers.add_account(url, "bench-lab", "lab")
            server = servers.start_dcc(name, {**env, "DCC_DATABASE_URL": url}, workers=1)
            targets.append((name, server, key))
        series: list[Series] = []
        for kind, path, bodies, size in (
            ("single", "/v1/certificates", singles, 1),
            ("batch", "/v1/certificates/batch", batches, batch_size),
        ):
            runs: dict[str, list[LoadResult]] = {name: [] for name, _, _ in targets}
            for _ in range(rounds):
                for name, server, key in targets:
                    headers = {
                        "Content-Type": "application/json",
                        "Accept": "application/json",
                        "Authorization": f"Bearer {key}",
                    }
                    load = run_load(
                        f"{server.url}{path}",
                        headers,
                        bodies,
                        connections=connections if size == 1 else 4,
                        duration=duration,
                    )
                    runs[name].append(load)
            series += [Series(name, kind, size, tuple(r)) for name, r in runs.items()]
    return series


def render(series: Sequence[Series]) -> tuple[str, bool]:
    """The markdown table and whether both targets pass."""
    lines = [
        "| load | server | certificates/s (median round) | p50 ms | p99 ms | non-2xx / errors "
        "| ratio vs without | target | result |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    all_pass = True
    for entry in series:
        base = next(s for s in series if s.kind == entry.kind and s.server == WITHOUT)
        ratio = entry.certificates_per_second() / (base.certificates_per_second() or 1.0)
        failures = sum(run.non_2xx + run.socket_errors for run in entry.runs)
        median = entry.median()
        if entry.server == POSTGRES:
            target = TARGETS[entry.kind]
            ok = ratio >= target and failures == 0
            all_pass = all_pass and ok
            cells = f"≥ {target:.2f}x | {'pass' if ok else '**MISS**'}"
        else:
            ok = failures == 0
            all_pass = all_pass and ok
            cells = "baseline | " if entry.server == WITHOUT else "informational | "
        lines.append(
            f"| {entry.kind} | {entry.server} | {entry.certificates_per_second():,.0f} "
            f"| {median.p50_ms:.2f} | {median.p99_ms:.2f} | {failures} | {ratio:.2f}x | {cells} |"
        )
    return "\n".join(lines), all_pass


def report(
    *,
    duration: float = 8.0,
    rounds: int = 3,
    batch_size: int = 100,
    connections: int = 32,
    ref: str = BASELINE_REF,
) -> tuple[str, bool]:
    """Run bench 6; its markdown section and whether the targets pass."""
    series = run(
        duration=duration, rounds=rounds, batch_size=batch_size, connections=connections, ref=ref
    )
    table, ok = render(series)
    first = series[0].runs[0]
    header = (
        f"load: {first.generator}, {connections} connections (single) / 4 (batches of "
        f"{batch_size}), {rounds} interleaved rounds of {first.seconds:.0f} s per server; "
        f"1 uvicorn worker each; baseline = {ref}; load average {os.getloadavg()[0]:.2f}"
    )
    title = "### 6. The issuance register's cost over HTTP"
    return f"{title}\n\n{header}\n\n{table}", ok


def main(argv: Sequence[str] | None = None) -> int:
    """Print bench 6's table."""
    parser = argparse.ArgumentParser(description="Bench 6: the register's cost over HTTP")
    parser.add_argument("--duration", type=float, default=8.0, help="seconds per load run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--baseline-ref", default=BASELINE_REF)
    args = parser.parse_args(argv)
    print(f"(load generator: {generator_name()})", flush=True)
    text, ok = report(
        duration=args.duration,
        rounds=args.rounds,
        batch_size=args.batch_size,
        connections=args.connections,
        ref=args.baseline_ref,
    )
    return print_report(text, ok)


if __name__ == "__main__":
    sys.exit(main())
