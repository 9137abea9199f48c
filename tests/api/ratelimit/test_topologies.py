"""Quotas on Redis Sentinel and Redis Cluster (real redis-server processes on loopback).

Each topology: two replicas' limiters allow exactly the burst per key, the service issues
against it (the quota holds), and a master killed with SIGKILL is followed by the service's
limiter under its policy until Redis decides again, with no restart; a key exhausted before
the kill is still exhausted after the failover. Recovery times are printed by
``python -m loadtests.failover`` (BENCHMARKS.md), never asserted.
"""

from __future__ import annotations

from typing import Any

import pytest

from api.ratelimit import Rate
from api.ratelimit.topology import parse_topology
from loadtests import failover
from loadtests.redis_topologies import RedisCluster, RedisSentinelSet, redis_binaries

needs_redis = pytest.mark.skipif(redis_binaries() is None, reason="redis-server/cli missing")


def test_urls_name_the_topology() -> None:
    single = parse_topology("redis://127.0.0.1:6379/0")
    assert single.kind == "single"
    sentinel = parse_topology("redis+sentinel://:s3cret@10.0.0.1:26379,10.0.0.2:26379/dcc/2")
    assert (sentinel.kind, sentinel.service, sentinel.db) == ("sentinel", "dcc", 2)
    assert sentinel.nodes == (("10.0.0.1", 26379), ("10.0.0.2", 26379))
    assert sentinel.password == "s3cret"
    cluster = parse_topology("redis+cluster://a:7000,b:7001")
    assert (cluster.kind, cluster.nodes) == ("cluster", (("a", 7000), ("b", 7001)))


@pytest.mark.parametrize(
    "url",
    [
        "redis+sentinel://10.0.0.1:26379",  # no service name
        "redis+sentinel://10.0.0.1/dcc",  # no port
        "redis+cluster://a:7000/1",  # clusters have no databases
        "redis+cluster://",
        "http://localhost:6379",
        "localhost:6379",
    ],
)
def test_unusable_urls_are_refused(url: str) -> None:
    with pytest.raises(ValueError):
        parse_topology(url)


async def issue_three(start_service: Any, url: str, make_request: Any) -> list[int]:
    service = await start_service({"redis_url": url, "rate_pharmacist": Rate.parse("2/hour")})
    ready = await service.client.get("/readyz")
    assert (ready.status_code, ready.json()["limiter"]["state"]) == (200, "ok")
    headers = service.auth(service.pharmacist_key)
    statuses = []
    for _ in range(3):
        response = await service.client.post(
            "/v1/certificates", json=make_request(), headers=headers
        )
        statuses.append(response.status_code)
    return statuses


def assert_failover(report: failover.FailoverReport, outage_outcome: str) -> None:
    assert not report.unexpected, report
    assert report.first_outage is not None, report  # the kill was seen
    assert report.recovered is not None, report  # Redis decides again, no restart
    during = set(report.outcomes) - {"allowed", "denied"}
    assert during == {outage_outcome}, report  # the designed policy, nothing else
    assert report.spent_still_denied, report  # the replica had the bucket


@needs_redis
@pytest.mark.slow
async def test_cluster_three_masters_three_replicas(start_service: Any, make_request: Any) -> None:
    with RedisCluster() as cluster:
        assert await issue_three(start_service, cluster.url, make_request) == [201, 201, 429]
        exact = await failover.check_exact(cluster.url)
        assert set(exact.values()) == {failover.EXACT_RATE.burst}, exact
        victim = cluster.master_of(failover.PREFIX + failover.VICTIM)

        def kill() -> None:
            with victim.client() as client:
                client.execute_command("WAIT", 1, 2000)
            victim.kill()

        def promoted() -> None:
            cluster.wait_failover(victim, failover.PREFIX + failover.VICTIM)

        report = await failover.kill_master(cluster.url, "cluster", "degrade", kill, promoted)
    assert_failover(report, "fallback_allowed")


@needs_redis
@pytest.mark.slow
async def test_sentinel_master_replica_three_sentinels(
    start_service: Any, make_request: Any
) -> None:
    with RedisSentinelSet() as sentinels:
        assert await issue_three(start_service, sentinels.url, make_request) == [201, 201, 429]
        exact = await failover.check_exact(sentinels.url)
        assert set(exact.values()) == {failover.EXACT_RATE.burst}, exact

        def kill() -> None:
            with sentinels.master.client() as client:
                client.execute_command("WAIT", 1, 2000)
            sentinels.master.kill()

        report = await failover.kill_master(
            sentinels.url, "sentinel", "fail-closed", kill, sentinels.wait_failover
        )
    assert_failover(report, "unavailable")
