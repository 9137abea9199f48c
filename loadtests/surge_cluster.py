"""``make surge SURGE_ARGS=--cluster``: the July surge against three replicas behind HAProxy.

The same locust scenario as :mod:`loadtests.surge` (its shape, users, quotas and outputs),
but the target is the topology of :class:`loadtests.cluster.HaproxyCluster`: HAProxy in
front of three ``dcc serve`` replicas (one worker each, so the 2-core box runs the same
number of serving processes plus the balancer) sharing one Redis for quotas and one
PostgreSQL for accounts, the register and idempotency keys. Every process is stopped at
the end.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Final

from loadtests.cluster import HaproxyCluster
from loadtests.surge import _LOCUST, _LOCUSTFILE, SURGE_RATES, prepare_data

__all__ = ["REPLICAS", "run_surge_cluster"]

REPLICAS: Final = 3
_PHARMACIES: Final = 40
_LABS: Final = 5


def run_surge_cluster(*, seconds: float, base_users: int, out: Path) -> int:
    """Run the surge through HAProxy; return locust's exit code."""
    out.mkdir(parents=True, exist_ok=True)
    with HaproxyCluster(replicas=REPLICAS, workers=1, env=dict(SURGE_RATES)) as cluster:
        keys = {
            "pharmacists": [
                cluster.add_account(f"pharmacy-{n:02d}", "pharmacist") for n in range(_PHARMACIES)
            ],
            "labs": [cluster.add_account(f"lab-{n}", "lab") for n in range(_LABS)],
        }
        data_file = out / "surge-data.json"
        prepare_data(cluster.replicas[0], keys, data_file)
        locust_env = {
            **os.environ,
            "DCC_SURGE_DATA": str(data_file),
            "DCC_SURGE_OUT": str(out),
            "DCC_SURGE_SECONDS": str(seconds),
            "DCC_SURGE_BASE_USERS": str(base_users),
        }
        with (out / "locust.log").open("wb") as log:
            result = subprocess.run(  # noqa: S603 (our locust, loopback host)
                _locust_argv(cluster.url, out),
                env=locust_env,
                stdout=log,
                stderr=subprocess.STDOUT,
                timeout=seconds + 120,
                check=False,
            )
        lines: list[str] = []
        for replica in cluster.replicas:
            text = replica.log.read_text(encoding="utf-8", errors="replace")
            lines.extend(
                f"{replica.name}: {line}" for line in text.splitlines() if '"event"' not in line
            )
        (out / "server-errors.log").write_text("\n".join(lines), encoding="utf-8")
    return result.returncode


def _locust_argv(host: str, out: Path) -> list[str]:
    """The surge's headless locust command (as :func:`loadtests.surge.run_surge` runs it)."""
    return [
        str(_LOCUST), "--headless", "-f", str(_LOCUSTFILE), "--host", host,
        "--csv", str(out / "surge"), "--csv-full-history", "--only-summary",
        "--loglevel", "WARNING", "--stop-timeout", "10",
    ]  # fmt: skip
