"""Bench 5: batch issuing throughput, and the p99 of single requests while batches run.

One ``dcc serve`` (``--workers 2``, in-process quotas set high enough never to refuse) gets
three phases of load from this process:

1. singles alone: a paced pharmacist client (``--single-rate`` requests per second, one
   keep-alive connection, open loop) measures the single-issue latency at rest;
2. batches alone: ``--batch-clients`` lab clients post batches of ``--batch-size`` items
   back to back; certificates per second = certificates issued / elapsed time;
3. both at once: the same batch load, and the paced singles measured under it.

Every answer must be 2xx and every batch item issued.

Run: ``.venv/bin/python -m loadtests.bench_batch [--duration S] [--batch-size N]``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import re
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

from loadtests.bench_cli import print_report
from loadtests.fixtures import sample_requests
from loadtests.servers import LOOPBACK, Server, ServerSet

__all__ = ["BATCH_TARGET", "P99_TARGET_MS", "main", "report", "run"]

BATCH_TARGET: Final = 5000.0
P99_TARGET_MS: Final = 100.0
_UNLIMITED: Final = "1000000/second"
_ISSUED: Final = re.compile(rb'"issued":(\d+),"failed":(\d+)')


@dataclass
class Tally:
    """What one phase measured (shared by its client threads, under a lock)."""

    latencies_ms: list[float] = field(default_factory=list)
    certificates: int = 0
    batches: int = 0
    failures: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def p(self, quantile: float) -> float:
        """A latency percentile in ms (0 when nothing was measured)."""
        values = sorted(self.latencies_ms)
        if not values:
            return 0.0
        return values[min(len(values) - 1, int(quantile * len(values)))]


def _post(conn: http.client.HTTPConnection, path: str, body: bytes, key: str) -> tuple[int, bytes]:
    conn.request(
        "POST",
        path,
        body=body,
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {key}"},
    )
    response = conn.getresponse()
    return response.status, response.read()


def _singles(server: Server, key: str, rate: float, stop: threading.Event, tally: Tally) -> None:
    bodies = [json.dumps(body).encode() for body in sample_requests(64)]
    conn = http.client.HTTPConnection(LOOPBACK, server.port, timeout=30)
    interval, index = 1.0 / rate, 0
    next_at = time.perf_counter()
    try:
        while not stop.is_set():
            started = time.perf_counter()
            status, _ = _post(conn, "/v1/certificates", bodies[index % len(bodies)], key)
            elapsed_ms = (time.perf_counter() - started) * 1000
            index += 1
            with tally.lock:
                tally.latencies_ms.append(elapsed_ms)
                tally.failures += status != 201
            next_at += interval
            time.sleep(max(0.0, next_at - time.perf_counter()))
    finally:
        conn.close()


def _batches(server: Server, key: str, body: bytes, stop: threading.Event, tally: Tally) -> None:
    """Post batches back to back, each on a new connection: the kernel then spreads them
    over the workers (one kept-alive connection would pin a lab to one worker)."""
    while not stop.is_set():
        conn = http.client.HTTPConnection(LOOPBACK, server.port, timeout=120)
        try:
            status, data = _post(conn, "/v1/certificates/batch", body, key)
        finally:
            conn.close()
        match = _ISSUED.search(data, 0, 200)
        with tally.lock:
            tally.batches += 1
            if status != 200 or match is None or int(match[2]) != 0:
                tally.failures += 1
            else:
                tally.certificates += int(match[1])


@dataclass(frozen=True, slots=True)
class Phase:
    """One phase's figures."""

    name: str
    seconds: float
    singles: Tally | None
    batches: Tally | None


def _phase(
    name: str,
    server: Server,
    keys: tuple[str, str],
    *,
    duration: float,
    single_rate: float | None,
    batch_clients: int,
    batch_body: bytes,
) -> Phase:
    stop = threading.Event()
    singles = Tally() if single_rate else None
    batches = Tally() if batch_clients else None
    threads = [
        threading.Thread(target=_batches, args=(server, keys[1], batch_body, stop, batches))
        for _ in range(batch_clients)
        if batches is not None
    ]
    if singles is not None and single_rate:
        threads.append(
            threading.Thread(target=_singles, args=(server, keys[0], single_rate, stop, singles))
        )
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    time.sleep(duration)
    stop.set()
    for thread in threads:
        thread.join()
    return Phase(name, time.perf_counter() - started, singles, batches)


def run(
    *,
    duration: float = 10.0,
    batch_size: int = 1000,
    batch_clients: int = 2,
    single_rate: float = 50.0,
    workers: int = 2,
) -> list[Phase]:
    """Start ``dcc serve``, run the three phases, stop it; return the phases."""
    items = sample_requests(batch_size)
    batch_body = json.dumps({"items": items}).encode()
    with ServerSet() as servers:
        database = servers.database()
        keys = (
            servers.add_account(database, "bench-pharmacy", "pharmacist"),
            servers.add_account(database, "bench-lab", "lab"),
        )
        env = {
            "DCC_DATABASE_URL": database,
            "DCC_RATE_PHARMACIST": _UNLIMITED,
            "DCC_RATE_LAB": _UNLIMITED,
            "DCC_RATE_GLOBAL": _UNLIMITED,
        }
        server = servers.start_dcc("dcc-batch", env, workers=workers)

        def phase(name: str, seconds: float, rate: float | None, clients: int) -> Phase:
            return _phase(
                name,
                server,
                keys,
                duration=seconds,
                single_rate=rate,
                batch_clients=clients,
                batch_body=batch_body,
            )

        phase("warm-up", 2.0, 20.0, 1)
        return [
            phase("singles alone", duration, single_rate, 0),
            phase("batches alone", duration, None, batch_clients),
            phase("batches + singles", duration, single_rate, batch_clients),
        ]


def render(phases: Sequence[Phase], *, batch_size: int, workers: int) -> tuple[str, bool]:
    """Bench 5's markdown table and whether both targets pass."""
    lines = [
        f"dcc serve --workers {workers}; batches of {batch_size} items; singles paced, "
        "one connection; loopback",
        "",
        "| phase | certificates/s (batches) | batches | singles | single p50 ms | p99 ms "
        "| max ms | failures | targets |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    all_pass = True
    for phase in phases:
        batches, singles = phase.batches, phase.singles
        rate = batches.certificates / phase.seconds if batches else None
        failures = (batches.failures if batches else 0) + (singles.failures if singles else 0)
        verdicts = []
        if rate is not None:
            ok = rate >= BATCH_TARGET and failures == 0
            verdicts.append(f"≥ {BATCH_TARGET:,.0f}/s {'pass' if ok else '**MISS**'}")
            all_pass = all_pass and ok
        if singles is not None and batches is not None:
            ok = singles.p(0.99) < P99_TARGET_MS and failures == 0
            verdicts.append(f"p99 < {P99_TARGET_MS:.0f} ms {'pass' if ok else '**MISS**'}")
            all_pass = all_pass and ok
        cells = [
            phase.name,
            f"{rate:,.0f}" if rate is not None else "",
            str(batches.batches) if batches else "",
            str(len(singles.latencies_ms)) if singles else "",
            f"{singles.p(0.50):.1f}" if singles else "",
            f"{singles.p(0.99):.1f}" if singles else "",
            f"{max(singles.latencies_ms, default=0.0):.1f}" if singles else "",
            str(failures),
            "; ".join(verdicts),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines), all_pass


def report(
    *,
    duration: float | None = None,
    batch_size: int = 1000,
    batch_clients: int = 2,
    single_rate: float = 50.0,
    workers: int = 2,
) -> tuple[str, bool]:
    """Run bench 5 and return its markdown section and whether the targets pass."""
    phases = run(
        duration=duration or 10.0,
        batch_size=batch_size,
        batch_clients=batch_clients,
        single_rate=single_rate,
        workers=workers,
    )
    table, ok = render(phases, batch_size=batch_size, workers=workers)
    return f"### 5. Batch issuing throughput and single-request p99 under batches\n\n{table}", ok


def main(argv: Sequence[str] | None = None) -> int:
    """Print bench 5's table (targets recorded, not enforced)."""
    parser = argparse.ArgumentParser(description="Bench 5: batch throughput, singles p99")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per phase")
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--batch-clients", type=int, default=2)
    parser.add_argument("--single-rate", type=float, default=50.0, help="singles per second")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    text, ok = report(
        duration=args.duration,
        batch_size=args.batch_size,
        batch_clients=args.batch_clients,
        single_rate=args.single_rate,
        workers=args.workers,
    )
    return print_report(text, ok)


if __name__ == "__main__":
    sys.exit(main())
