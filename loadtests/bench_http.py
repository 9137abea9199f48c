"""Bench 4: ``POST /v1/certificates`` through ``dcc serve`` vs a bare endpoint, over HTTP.

Four servers run side by side on free loopback ports with the same uvicorn settings and
worker count (``dcc serve --server uvicorn``, whatever its default server): the bare
endpoint (:mod:`loadtests.bare_app`: a FastAPI route answering a constant JSON of the
issue response's size; the baseline of both targets), the same bare endpoint mounted as
a plain route as ``dcc serve`` mounts its issue route (informational: the floor of that
route kind), ``dcc serve`` with in-process quotas, and ``dcc serve`` with
quotas in a private ``redis-server``. Quotas are set so high that every request is checked
(two GCRA hits: the account, then the deployment) but none is refused. One load generator
(wrk, else :mod:`loadtests.loadgen`'s asyncio one) loads each server in turn, several
rounds, interleaved, so a noisy neighbour hits all alike; the table gives the median
round and each ratio is against the FastAPI bare endpoint. Every answer must be 2xx.

Run: ``.venv/bin/python -m loadtests.bench_http [--duration S] [--rounds R] [--workers N]``.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from loadtests.bench_cli import print_report
from loadtests.fixtures import sample_requests
from loadtests.loadgen import LoadResult, generator_name, run_load
from loadtests.servers import Server, ServerSet

__all__ = ["HTTP_TARGETS", "Endpoint", "main", "render", "report", "run"]

HTTP_TARGETS: Final = {"dcc serve, in-process quotas": 0.60, "dcc serve, Redis quotas": 0.50}
BARE: Final = "bare endpoint (same framework, constant body)"
BARE_PLAIN: Final = "bare plain route (as dcc mounts its issue route; informational)"
UNLIMITED: Final = "1000000/second"
_BODIES: Final = 64


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One loaded server and its runs."""

    name: str
    runs: tuple[LoadResult, ...]

    def median_run(self) -> LoadResult:
        """The run with the median throughput."""
        ordered = sorted(self.runs, key=lambda run: run.rps)
        return ordered[len(ordered) // 2]


def _issue_once(server: Server, key: str, body: str) -> bytes:
    request = urllib.request.Request(  # noqa: S310 (loopback)
        f"{server.url}/v1/certificates",
        data=body.encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {key}"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        if response.status != 201:
            raise RuntimeError(f"issue answered {response.status}")
        data: bytes = response.read()
        return data


def run(
    *, duration: float = 8.0, rounds: int = 3, workers: int = 1, connections: int = 32
) -> list[Endpoint]:
    """Start the four servers, load each ``rounds`` times, stop them; return the runs."""
    bodies = [json.dumps(body, ensure_ascii=False) for body in sample_requests(_BODIES)]
    with ServerSet() as servers:
        database = servers.database()
        key = servers.add_account(database, "bench-pharmacy", "pharmacist")
        env = {
            "DCC_DATABASE_URL": database,
            "DCC_RATE_PHARMACIST": UNLIMITED,
            "DCC_RATE_GLOBAL": UNLIMITED,
        }
        # uvicorn, as the bare endpoints: this bench measures the framework and the
        # service's own work; bench 6 (loadtests.bench_servers) compares the servers.
        memory = servers.start_dcc("dcc-memory", env, workers=workers, server="uvicorn")
        response_size = len(_issue_once(memory, key, bodies[0]))
        redis_url = servers.start_redis()
        redis = servers.start_dcc(
            "dcc-redis", {**env, "DCC_REDIS_URL": redis_url}, workers=workers, server="uvicorn"
        )
        _issue_once(redis, key, bodies[0])
        bare = servers.start_bare("bare", workers=workers, response_bytes=response_size)
        plain = servers.start_bare(
            "bare-plain", workers=workers, response_bytes=response_size, plain=True
        )
        targets = [
            (BARE, bare),
            (BARE_PLAIN, plain),
            ("dcc serve, in-process quotas", memory),
            ("dcc serve, Redis quotas", redis),
        ]
        headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "Authorization": f"Bearer {key}",
        }
        runs: dict[str, list[LoadResult]] = {name: [] for name, _ in targets}
        for _ in range(rounds):
            for name, server in targets:
                url = f"{server.url}/v1/certificates"
                runs[name].append(
                    run_load(url, headers, bodies, connections=connections, duration=duration)
                )
    return [Endpoint(name, tuple(results)) for name, results in runs.items()]


def render(endpoints: Sequence[Endpoint], *, workers: int, connections: int) -> tuple[str, bool]:
    """The markdown table of bench 4 and whether both targets pass."""
    bare = next(e for e in endpoints if e.name == BARE).median_run()
    lines = [
        f"load: {endpoints[0].runs[0].generator}, {connections} connections, "
        f"{len(endpoints[0].runs)} interleaved rounds of {endpoints[0].runs[0].seconds:.0f} s "
        f"per server; uvicorn workers: {workers}; loopback",
        "",
        "| endpoint | req/s (median round) | min | max | p50 ms | p99 ms | non-2xx / errors "
        "| ratio vs bare | target | result |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    all_pass = True
    for endpoint in endpoints:
        median = endpoint.median_run()
        rates = [run.rps for run in endpoint.runs]
        failures = sum(run.non_2xx + run.socket_errors for run in endpoint.runs)
        ratio = median.rps / bare.rps if bare.rps else 0.0
        target = HTTP_TARGETS.get(endpoint.name)
        if target is None:
            cells = "baseline | " if endpoint.name == BARE else "informational | "
        else:
            ok = ratio >= target and failures == 0
            all_pass = all_pass and ok
            cells = f"≥ {target:.2f}x | {'pass' if ok else '**MISS**'} "
        lines.append(
            f"| {endpoint.name} | {median.rps:,.0f} | {min(rates):,.0f} | {max(rates):,.0f} "
            f"| {median.p50_ms:.2f} | {median.p99_ms:.2f} | {failures} | {ratio:.2f}x | {cells}|"
        )
    return "\n".join(lines), all_pass


def report(
    *, duration: float | None = None, rounds: int = 3, workers: int = 1, connections: int = 32
) -> tuple[str, bool]:
    """Run bench 4 and return its markdown section and whether the targets pass."""
    endpoints = run(
        duration=duration or 8.0, rounds=rounds, workers=workers, connections=connections
    )
    table, ok = render(endpoints, workers=workers, connections=connections)
    title = "### 4. HTTP POST /v1/certificates: dcc serve vs a bare endpoint"
    return f"{title}\n\n{table}", ok


def main(argv: Sequence[str] | None = None) -> int:
    """Print bench 4's table (targets recorded, not enforced)."""
    parser = argparse.ArgumentParser(description="Bench 4: HTTP issue vs bare endpoint")
    parser.add_argument("--duration", type=float, default=8.0, help="seconds per load run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=1, help="uvicorn workers per server")
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args(argv)
    print(f"(load generator: {generator_name()})", flush=True)
    text, ok = report(
        duration=args.duration,
        rounds=args.rounds,
        workers=args.workers,
        connections=args.connections,
    )
    return print_report(text, ok)


if __name__ == "__main__":
    sys.exit(main())
