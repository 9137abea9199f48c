"""Two ``dcc serve`` replicas on different loopback ports share one Redis: a client hammering
both with one API key gets the combined quota once, not once per replica (or per worker).
Without Redis the same hammering gets one quota per process, which shows the test can fail.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import Counter
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from tests.accounts import add_account

if TYPE_CHECKING:
    from conftest import Deployment, RedisServer, ServeFactory

BURST = 20
RATE = f"{BURST}/hour"  # one cell per 180 s: nothing refills while the test runs
REQUESTS = 60
CONCURRENCY = 6


async def hammer(
    urls: list[str], key: str, body: dict[str, Any]
) -> tuple[list[httpx.Response], float]:
    """``REQUESTS`` issue calls spread round-robin over ``urls`` by ``CONCURRENCY`` clients,
    each on a fresh connection (so every worker of a multi-worker replica takes some)."""
    targets = itertools.cycle(urls)
    queue = [next(targets) for _ in range(REQUESTS)]
    answers: list[httpx.Response] = []
    headers = {"Authorization": f"Bearer {key}", "Connection": "close"}

    async def client() -> None:
        async with httpx.AsyncClient(timeout=10) as http:
            while queue:
                url = queue.pop()
                answers.append(
                    await http.post(f"{url}/v1/certificates", json=body, headers=headers)
                )

    started = time.monotonic()
    await asyncio.gather(*(client() for _ in range(CONCURRENCY)))
    return answers, time.monotonic() - started


@pytest.mark.slow
@pytest.mark.parametrize(
    ("workers", "shared", "expected"),
    [
        pytest.param((1, 1), True, BURST, id="two-replicas-redis"),
        pytest.param((2, 1), True, BURST, id="two-workers-plus-one-redis"),
        pytest.param((1, 1), False, 2 * BURST, id="two-replicas-in-process"),
    ],
)
async def test_replicas_share_one_quota_through_redis(
    workers: tuple[int, int],
    shared: bool,
    expected: int,
    own_redis: RedisServer,
    deployment: Deployment,
    start_dcc_serve: ServeFactory,
    make_request: Any,
) -> None:
    created = add_account(deployment.database_url, name="pharmacy", role="pharmacist")
    env = deployment.with_env(rate_pharmacist=RATE, redis_url=own_redis.url if shared else "")
    replicas = [start_dcc_serve(env, workers=count) for count in workers]
    for replica in replicas:
        replica.wait_ready()
    pids_before = [replica.worker_pids() for replica in replicas]

    started = time.monotonic()
    answers, elapsed = await hammer([r.url for r in replicas], created.api_key, make_request())

    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [201] * expected + [429] * (REQUESTS - expected), f"in {elapsed:.2f} s"
    for answer in answers:
        assert answer.headers["ratelimit-limit"] == str(BURST)
        assert answer.headers["ratelimit-policy"] == f"{BURST};w=3600"
        if answer.status_code == 429:
            assert answer.headers["content-type"] == "application/problem+json"
            assert answer.json()["code"] == "rate_limited"
            assert answer.headers["ratelimit-remaining"] == "0"
            # the next cell conforms 180 s after the first hit, minus the time already spent
            # (at most ``elapsed``: a slow run only widens these bounds)
            assert 180 - elapsed - 1 <= int(answer.headers["retry-after"]) <= 180
            assert 3600 - elapsed - 1 <= int(answer.headers["ratelimit-reset"]) <= 3600
    remaining = sorted(int(a.headers["ratelimit-remaining"]) for a in answers if a.is_success)
    if shared:
        assert remaining == list(range(BURST)), "each allowed hit saw the shared count go down"
        with own_redis.client() as redis:
            ttl_ms = redis.pttl(f"dcc:rl:pharmacist:{created.account.id}")
        spent = time.monotonic() - started  # since before the first hit, up to the PTTL
        assert (3600 - spent - 1) * 1000 <= ttl_ms <= 3600 * 1000  # the key expires
    for replica, pids in zip(replicas, pids_before, strict=True):
        assert replica.alive
        assert replica.worker_pids() == pids
    print(f"\n{workers} workers, shared={shared}: {dict(Counter(statuses))} in {elapsed:.2f} s")
