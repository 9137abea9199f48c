"""Quotas on Redis Cluster and Sentinel: exact across replicas, and a master killed.

Used by the tests (tests/api/ratelimit/test_topologies.py) and as a recorder of recovery
times (``python -m loadtests.failover [--runs N]``, figures in BENCHMARKS.md):

1. :func:`check_exact` — two "replicas" (each its own client and limiter, as two ``dcc
   serve`` processes have) hit the same keys concurrently, spread over the cluster's slots;
   each key allows exactly its burst.
2. :func:`kill_master` — a :class:`~api.ratelimit.resilient.ResilientLimiter` (the service's
   wrapper, breaker reset 0.1 s) decides on one key every 20 ms while the master owning that
   key is SIGKILLed. Every decision is classified (Redis, local fallback, unavailable) until
   Redis decides again — without any restart of the client. Before the kill a key is
   exhausted (and ``WAIT``-ed to the replica): after the failover it must still be denied.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

from api.ratelimit import InMemoryLimiter, LimiterUnavailable, Rate
from api.ratelimit.factory import create_redis_client
from api.ratelimit.redis_gcra import RedisLimiter
from api.ratelimit.resilient import FailurePolicy, ResilientLimiter
from api.ratelimit.topology import RedisClient
from loadtests.redis_topologies import RedisCluster, RedisSentinelSet

__all__ = ["FailoverReport", "check_exact", "kill_master", "main"]

PREFIX: Final = "dcc:rl:"
EXACT_RATE: Final = Rate.parse("20/hour")
FAST_RATE: Final = Rate.parse("100000/second")
PROBE_EVERY: Final = 0.02
RECOVERY_TIMEOUT: Final = 30.0
VICTIM: Final = "lab:{failover}:victim"  # one hash tag: both keys on one cluster slot
SPENT: Final = "lab:{failover}:spent"


def _client(url: str) -> RedisClient:
    # The service's client, with a roomier read timeout: the test machine is shared.
    return create_redis_client(url, socket_timeout=0.5, connect_timeout=0.5)


async def check_exact(url: str, keys: int = 8, hits_per_replica: int = 30) -> dict[str, int]:
    """Allowed hits per key when two replicas hit ``keys`` keys concurrently."""
    replicas = [RedisLimiter(_client(url), prefix=PREFIX) for _ in range(2)]
    names = [f"lab:exact-{i}" for i in range(keys)]
    try:
        calls = [
            replica.hit(name, EXACT_RATE)
            for _ in range(hits_per_replica)
            for replica in replicas
            for name in names
        ]
        decisions = await asyncio.gather(*calls)
    finally:
        for replica in replicas:
            await replica.close()
    allowed: Counter[str] = Counter()
    for i, decision in enumerate(decisions):
        if decision.allowed:
            allowed[names[i % keys]] += 1
    return {name: allowed[name] for name in names}


@dataclass
class FailoverReport:
    """What one killed master did to the decisions on a key it owned."""

    topology: str
    policy: str
    outcomes: Counter[str] = field(default_factory=Counter)
    first_outage: float | None = None  # seconds after the kill
    recovered: float | None = None  # first decision by Redis again, seconds after the kill
    promoted: float | None = None  # the topology's own view of the failover
    spent_still_denied: bool | None = None
    unexpected: list[str] = field(default_factory=list)


async def kill_master(
    url: str,
    topology: str,
    policy: FailurePolicy,
    kill: Callable[[], None],
    wait_promoted: Callable[[], None],
) -> FailoverReport:
    """Kill the master owning the test keys, decide every 20 ms until Redis decides again."""
    report = FailoverReport(topology, policy)
    outcome = ""

    def observe(_kind: str, result: str) -> None:
        nonlocal outcome
        outcome = result

    limiter = ResilientLimiter(
        RedisLimiter(_client(url), prefix=PREFIX),
        InMemoryLimiter(),
        policy=policy,
        breaker_threshold=1,
        breaker_reset=0.1,
        call_timeout=1.0,
        on_decision=observe,
    )
    try:
        for _ in range(EXACT_RATE.burst):
            assert (await limiter.hit(SPENT, EXACT_RATE)).allowed
        await limiter.hit(VICTIM, FAST_RATE)
        killed_at = time.monotonic()
        kill()
        promotion = asyncio.create_task(asyncio.to_thread(_timed, wait_promoted))
        while time.monotonic() - killed_at < RECOVERY_TIMEOUT:
            try:
                await limiter.hit(VICTIM, FAST_RATE)
            except LimiterUnavailable:
                pass
            except Exception as exc:  # anything else is a defect to report
                report.unexpected.append(repr(exc))
                outcome = "error"
            elapsed = time.monotonic() - killed_at
            report.outcomes[outcome] += 1
            if outcome in ("allowed", "denied"):
                if report.first_outage is not None:
                    report.recovered = elapsed
                    break
            elif report.first_outage is None:
                report.first_outage = elapsed
            await asyncio.sleep(PROBE_EVERY)
        report.promoted = await promotion - killed_at
        if report.recovered is not None:
            spent = await limiter.hit(SPENT, EXACT_RATE)
            report.spent_still_denied = outcome in ("allowed", "denied") and not spent.allowed
    finally:
        await limiter.close()
    return report


def _timed(wait: Callable[[], None]) -> float:
    wait()
    return time.monotonic()


async def cluster_failover(policy: FailurePolicy) -> tuple[dict[str, int], FailoverReport]:
    """Exactness and one failover on a fresh 3+3 cluster."""
    with RedisCluster() as cluster:
        exact = await check_exact(cluster.url)
        victim = cluster.master_of(PREFIX + VICTIM)

        def kill() -> None:
            with victim.client() as client:
                client.execute_command("WAIT", 1, 2000)
            victim.kill()

        def promoted() -> None:
            cluster.wait_failover(victim, PREFIX + VICTIM)

        report = await kill_master(cluster.url, "cluster", policy, kill, promoted)
    return exact, report


async def sentinel_failover(policy: FailurePolicy) -> tuple[dict[str, int], FailoverReport]:
    """Exactness and one failover on a fresh master + replica + 3 sentinels."""
    with RedisSentinelSet() as sentinels:
        exact = await check_exact(sentinels.url)

        def kill() -> None:
            with sentinels.master.client() as client:
                client.execute_command("WAIT", 1, 2000)
            sentinels.master.kill()

        report = await kill_master(sentinels.url, "sentinel", policy, kill, sentinels.wait_failover)
    return exact, report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    for name, run in (("cluster", cluster_failover), ("sentinel", sentinel_failover)):
        policies: tuple[FailurePolicy, ...] = ("degrade", "fail-closed")
        for policy in policies:
            recovered, promoted = [], []
            for _ in range(args.runs):
                exact, report = asyncio.run(run(policy))
                assert set(exact.values()) == {EXACT_RATE.burst}, exact
                assert not report.unexpected, report.unexpected
                assert report.recovered is not None, report
                assert report.spent_still_denied, report
                recovered.append(report.recovered)
                promoted.append(report.promoted or 0.0)
                print(f"{name} {policy}: {dict(report.outcomes)}", flush=True)
            print(
                f"{name:8} {policy:11} recovery (first Redis decision after the kill) "
                f"median {statistics.median(recovered):.2f} s, max {max(recovered):.2f} s; "
                f"promotion seen by the topology median {statistics.median(promoted):.2f} s "
                f"({args.runs} runs)",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
