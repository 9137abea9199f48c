"""``make surge``: the July-surge locust run against a local ``dcc serve``, bounded, charted.

Steps: a private ``redis-server``; keys and API accounts (pharmacists and labs) in a
temporary directory; ``dcc serve --workers 2`` with ``DCC_REDIS_URL`` and the surge quotas
(:data:`SURGE_RATES`: labs run into designed 429s, pharmacists mostly pass, travellers
pass); a few certificates issued to give travellers something to verify; then
``locust --headless`` with :mod:`loadtests.locustfile` (the :class:`JulySurge` shape),
bounded by a timeout. It writes into ``--out`` (default ``var/surge``) locust's CSVs
(``surge_stats.csv``, ``surge_stats_history.csv``, ``surge_failures.csv``), the recorder's
``status_history.csv`` and ``summary.json``, and the chart ``surge.png`` (throughput,
latency percentiles of single issues, 429s per second), then prints a summary table.
Every process it starts is stopped at the end.

Run: ``.venv/bin/python -m loadtests.surge [--seconds 180] [--base-users 12] [--out DIR]``.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

from api.server import SERVERS
from loadtests.fixtures import sample_requests
from loadtests.servers import Server, ServerSet
from loadtests.surge_chart import draw_surge_chart
from loadtests.surge_report import render_summary

__all__ = ["SURGE_RATES", "main", "prepare_data", "run_surge"]

SURGE_RATES: Final = {
    "DCC_RATE_PHARMACIST": "600/minute",  # 10/s per pharmacy: a busy counter, never hit
    "DCC_RATE_LAB": "3000/minute",  # 50 certificates/s per lab, bursts of 1000
    "DCC_RATE_LAB_BURST": "1000",
    "DCC_RATE_GLOBAL": "5000/second",
    "DCC_RATE_VERIFY": "100000/minute",  # every traveller here shares 127.0.0.1
}
_PHARMACIES: Final = 40
_LABS: Final = 5
_SAMPLE_HC1S: Final = 16
_SAMPLE_PNGS: Final = 4
_LOCUST: Final = Path(sys.executable).with_name("locust")
_LOCUSTFILE: Final = Path(__file__).with_name("locustfile.py")


def _issue(server: Server, key: str, body: dict[str, Any], accept: str) -> bytes:
    request = urllib.request.Request(  # noqa: S310 (loopback)
        f"{server.url}/v1/certificates",
        data=json.dumps(body).encode(),
        headers={
            "Content-Type": "application/json",
            "Authorization": f"Bearer {key}",
            "Accept": accept,
        },
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        data: bytes = response.read()
        return data


def prepare_data(server: Server, keys: dict[str, list[str]], path: Path) -> None:
    """Issue sample certificates (JSON and PNG) and write the locust input file."""
    pharmacist = keys["pharmacists"][0]
    bodies = sample_requests(_SAMPLE_HC1S + _SAMPLE_PNGS)
    hc1s = [
        json.loads(_issue(server, pharmacist, body, "application/json"))["hc1"]
        for body in bodies[:_SAMPLE_HC1S]
    ]
    pngs = [
        base64.b64encode(_issue(server, pharmacist, body, "image/png")).decode("ascii")
        for body in bodies[_SAMPLE_HC1S:]
    ]
    data = {**keys, "hc1": hc1s, "png_b64": pngs}
    path.write_text(json.dumps(data), encoding="utf-8")


def run_surge(
    *, seconds: float, base_users: int, workers: int, out: Path, server: str | None = None
) -> int:
    """Run the whole surge; return locust's exit code (1 when any request failed)."""
    out.mkdir(parents=True, exist_ok=True)
    with ServerSet() as servers:
        database = servers.database()
        keys = {
            "pharmacists": [
                servers.add_account(database, f"pharmacy-{n:02d}", "pharmacist")
                for n in range(_PHARMACIES)
            ],
            "labs": [servers.add_account(database, f"lab-{n}", "lab") for n in range(_LABS)],
        }
        env = {
            "DCC_DATABASE_URL": database,
            "DCC_REDIS_URL": servers.start_redis(),
            **SURGE_RATES,
        }
        served = servers.start_dcc("dcc-surge", env, workers=workers, server=server)
        data_file = servers.root / "surge-data.json"
        prepare_data(served, keys, data_file)
        locust_env = {
            **os.environ,
            "DCC_SURGE_DATA": str(data_file),
            "DCC_SURGE_OUT": str(out),
            "DCC_SURGE_SECONDS": str(seconds),
            "DCC_SURGE_BASE_USERS": str(base_users),
        }
        argv = [
            str(_LOCUST),
            "--headless",
            "-f",
            str(_LOCUSTFILE),
            "--host",
            served.url,
            "--csv",
            str(out / "surge"),
            "--csv-full-history",
            "--only-summary",
            "--loglevel",
            "WARNING",
            "--stop-timeout",
            "10",
        ]
        with (out / "locust.log").open("wb") as log:
            result = subprocess.run(  # noqa: S603 (our locust, loopback host)
                argv,
                env=locust_env,
                stdout=log,
                stderr=subprocess.STDOUT,
                timeout=seconds + 120,
                check=False,
            )
        server_log = served.log.read_text(encoding="utf-8", errors="replace")
        (out / "server-errors.log").write_text(
            "\n".join(line for line in server_log.splitlines() if '"event"' not in line),
            encoding="utf-8",
        )
    return result.returncode


def main(argv: Sequence[str] | None = None) -> int:
    """Run the surge, draw the chart, print the summary (exit 1 on undesigned errors)."""
    parser = argparse.ArgumentParser(description="The July-surge locust run (make surge)")
    parser.add_argument("--seconds", type=float, default=180.0, help="length of the surge")
    parser.add_argument("--base-users", type=int, default=12, help="users at the calm baseline")
    parser.add_argument("--workers", type=int, default=2, help="dcc serve workers")
    parser.add_argument("--out", type=Path, default=Path("var/surge"))
    parser.add_argument(
        "--server", choices=SERVERS, default=None, help="dcc serve's ASGI server (default: its own)"
    )
    parser.add_argument("--chart", type=Path, default=None, help="PNG path (default OUT/surge.png)")
    parser.add_argument(
        "--cluster",
        action="store_true",
        help="3 replicas (1 worker each) behind HAProxy, PostgreSQL (loadtests.surge_cluster)",
    )
    args = parser.parse_args(argv)
    if args.cluster:
        from loadtests.surge_cluster import REPLICAS, run_surge_cluster

        args.workers = REPLICAS  # serving processes, for the chart and the summary
        code = run_surge_cluster(seconds=args.seconds, base_users=args.base_users, out=args.out)
    else:
        code = run_surge(
            seconds=args.seconds,
            base_users=args.base_users,
            workers=args.workers,
            out=args.out,
            server=args.server,
        )
    chart = args.chart or args.out / "surge.png"
    draw_surge_chart(args.out, chart, base_users=args.base_users, workers=args.workers)
    text, clean = render_summary(args.out, workers=args.workers, base_users=args.base_users)
    print(text)
    print(f"\nlocust exit code {code}; chart: {chart}; CSV and logs: {args.out}")
    return 0 if clean else 1


if __name__ == "__main__":
    sys.exit(main())
