"""The Lua GCRA on a real redis-server: model equivalence, the rate invariant, key TTLs,
batches, and the NOSCRIPT reload after the script cache is lost."""

from __future__ import annotations

import asyncio
import math
import time
import uuid
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from api.ratelimit.base import Decision
from api.ratelimit.factory import create_redis_client
from api.ratelimit.rate import Rate
from api.ratelimit.redis_gcra import RedisLimiter
from tests.waiting import async_wait_until

if TYPE_CHECKING:
    from conftest import ConnectAttempts, GcraModel, RedisServer

EPOCH_US = 1_760_000_000_000_000  # realistic Redis TIME magnitudes (2025, in µs)


@pytest.fixture
async def limiter(redis_server: RedisServer) -> AsyncIterator[RedisLimiter]:
    """A Redis limiter on the shared server with a per-test key prefix."""
    client = create_redis_client(redis_server.url, socket_timeout=1.0, connect_timeout=1.0)
    redis_limiter = RedisLimiter(client, prefix=f"test:{uuid.uuid4().hex}:")
    yield redis_limiter
    await redis_limiter.close()


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[Rate, list[tuple[int, int]]]:
    """As in test_memory: a rate and (advance µs, cost) steps, impossible costs included."""
    count = draw(st.integers(1, 12))
    period = draw(st.sampled_from([1.0, 60.0, 3600.0]))
    rate = Rate(count=count, period_seconds=period, burst=draw(st.integers(1, 8)))
    advance = st.one_of(
        st.just(0),
        st.integers(0, rate.emission_interval_us * 2),
        st.integers(0, rate.depth_us * 2),
    )
    steps = draw(
        st.lists(st.tuples(advance, st.integers(1, rate.burst + 1)), min_size=1, max_size=20)
    )
    return rate, steps


@settings(max_examples=30, deadline=None)
@given(scenario=scenarios())
def test_lua_script_matches_the_model(
    redis_server: RedisServer,
    gcra_model: type[GcraModel],
    scenario: tuple[Rate, list[tuple[int, int]]],
) -> None:
    """With an injected clock (test hook), every answer of the script equals the model's."""
    rate, steps = scenario

    async def run() -> None:
        client = create_redis_client(redis_server.url, socket_timeout=1.0, connect_timeout=1.0)
        redis_limiter = RedisLimiter(client, prefix="model:")
        key = uuid.uuid4().hex
        model = gcra_model(rate)
        now = EPOCH_US
        try:
            for advance, cost in steps:
                now += advance
                got = await redis_limiter.hit_at(key, rate, cost, now_us=now)
                want = model.hit(now, cost)
                assert (got.allowed, got.impossible, got.remaining) == (
                    want.allowed,
                    want.impossible,
                    want.remaining,
                )
                assert got.retry_after == want.retry_after_us / 1_000_000
                assert got.reset_after == want.reset_after_us / 1_000_000
        finally:
            await redis_limiter.close()

    asyncio.run(run())


async def test_admissions_never_exceed_burst_plus_elapsed_over_interval(
    limiter: RedisLimiter,
) -> None:
    """With Redis TIME and 8 concurrent tasks for 0.6 s: in every window w, admitted cells
    <= burst + w/T; and the limiter is never stricter than the GCRA: every hit it denies
    finds the bucket empty with the next cell less than one interval away."""
    rate = Rate(count=100, period_seconds=1.0, burst=5)  # T = 10 ms
    admitted: list[tuple[float, float]] = []  # (sent, answered): Redis decided in between
    denied: list[Decision] = []
    stop_at = time.perf_counter() + 0.6

    async def worker() -> None:
        while time.perf_counter() < stop_at:
            sent = time.perf_counter()
            decision = await limiter.hit("global", rate)
            if decision.allowed:
                admitted.append((sent, time.perf_counter()))
            else:
                denied.append(decision)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(8)))
    elapsed = time.perf_counter() - started
    interval = rate.emission_interval
    admitted.sort()
    for i, (window_start, _) in enumerate(admitted):
        for _, window_end in admitted[i:]:
            inside = sum(1 for s, e in admitted if s >= window_start and e <= window_end)
            assert inside <= rate.burst + (window_end - window_start) / interval
    assert len(admitted) <= rate.burst + elapsed / interval
    assert len(admitted) >= rate.burst  # the whole burst first, then cells as they refill
    for decision in denied:
        assert decision.remaining == 0
        assert not decision.impossible
        assert 0 < decision.retry_after <= interval


@pytest.mark.parametrize(
    ("rate", "hits", "retry_after", "reset"),
    [
        (Rate.parse("1/second"), 1, "1", "1"),
        (Rate.parse("6/minute"), 6, "10", "60"),
        (Rate.parse("10/minute", burst=2), 2, "6", "12"),
        (Rate.parse("120/hour"), 120, "30", "3600"),
    ],
)
async def test_retry_after_is_exact_to_the_second(
    limiter: RedisLimiter, rate: Rate, hits: int, retry_after: str, reset: str
) -> None:
    """After the burst is spent, the next hit is denied with Retry-After = one interval."""
    for _ in range(hits):
        assert (await limiter.hit("lab:7", rate)).allowed
    denied = await limiter.hit("lab:7", rate)
    assert not denied.allowed
    headers = denied.headers()
    assert headers["Retry-After"] == retry_after
    assert headers["RateLimit-Limit"] == str(rate.burst)
    assert headers["RateLimit-Remaining"] == "0"
    assert headers["RateLimit-Reset"] == reset
    assert headers["RateLimit-Policy"] == rate.policy


async def test_remaining_counts_down_then_headers_of_an_allowed_hit(
    limiter: RedisLimiter,
) -> None:
    """Each allowed hit lowers ``remaining`` by one; allowed answers carry no Retry-After."""
    rate = Rate.parse("6/minute")
    remaining = [(await limiter.hit("lab:1", rate)).remaining for _ in range(6)]
    assert remaining == [5, 4, 3, 2, 1, 0]
    first = await limiter.hit("lab:2", rate)
    assert first.headers() == {
        "RateLimit-Limit": "6",
        "RateLimit-Remaining": "5",
        "RateLimit-Reset": "10",
        "RateLimit-Policy": "6;w=60",
    }


async def test_batch_spends_n_and_oversized_batch_is_impossible(
    redis_server: RedisServer, limiter: RedisLimiter
) -> None:
    """Cost N spends N cells; a denied batch spends nothing; cost > burst never fits and
    does not even create the key."""
    rate = Rate.parse("6/minute")
    assert (await limiter.hit("lab:1", rate, 4)).remaining == 2
    denied = await limiter.hit("lab:1", rate, 3)
    assert (denied.allowed, denied.impossible, denied.remaining) == (False, False, 2)
    assert denied.headers()["Retry-After"] == "10"
    assert (await limiter.hit("lab:1", rate, 2)).remaining == 0
    impossible = await limiter.hit("lab:9", rate, 7)
    assert impossible.impossible
    assert not impossible.allowed
    assert impossible.remaining == 6
    assert "Retry-After" not in impossible.headers()
    with redis_server.client() as inspect:
        assert inspect.exists(limiter.prefix + "lab:9") == 0


async def test_key_ttl_follows_the_tat_and_the_key_expires(
    redis_server: RedisServer, limiter: RedisLimiter
) -> None:
    """PTTL = time until the TAT passes; once it has, the key is gone (and the bucket is
    full again)."""
    rate = Rate.parse("10/second")  # one cell = 100 ms
    for _ in range(3):
        sent = time.monotonic()
        decision = await limiter.hit("lab:1", rate)
    key = limiter.prefix + "lab:1"
    with redis_server.client() as inspect:
        pttl = inspect.pttl(key)
        since_sent_ms = (time.monotonic() - sent) * 1000  # a slow run only widens the bound
        assert 0 < pttl <= math.ceil(decision.reset_after * 1000) <= 300
        assert pttl >= decision.reset_after * 1000 - since_sent_ms - 1
        assert inspect.get(key) is not None
        await async_wait_until(lambda: inspect.exists(key) == 0, what=f"{key} expired")
    assert (await limiter.hit("lab:1", rate)).remaining == 9


async def test_script_cache_flush_is_recovered_by_reload(
    redis_server: RedisServer, limiter: RedisLimiter
) -> None:
    """After SCRIPT FLUSH (NOSCRIPT on EVALSHA) the next hit reloads the script and works."""
    rate = Rate.parse("5/minute")
    assert (await limiter.hit("lab:1", rate)).remaining == 4
    with redis_server.client() as inspect:
        inspect.script_flush()
    assert (await limiter.hit("lab:1", rate)).remaining == 3


async def test_next_hit_works_after_a_redis_restart(own_redis: RedisServer) -> None:
    """Kill + restart (connections reset, script cache and data gone): the next hit works."""
    redis_limiter = RedisLimiter(create_redis_client(own_redis.url))
    rate = Rate.parse("5/minute")
    try:
        assert (await redis_limiter.hit("lab:1", rate)).remaining == 4
        own_redis.restart()
        assert (await redis_limiter.hit("lab:1", rate)).remaining == 4
        assert await redis_limiter.healthy()
    finally:
        await redis_limiter.close()


async def test_healthy_reports_a_dead_redis_at_once(
    own_redis: RedisServer, connect_attempts: ConnectAttempts
) -> None:
    """PING answers true while Redis runs and false once it is gone: reconnecting is
    refused at once (no timeout waited for), at most twice (the client's one retry)."""
    client = create_redis_client(own_redis.url)
    attempts = connect_attempts(client)
    redis_limiter = RedisLimiter(client)
    try:
        assert await redis_limiter.healthy()
        assert attempts == [None]  # connected
        own_redis.kill()
        assert not await redis_limiter.healthy()
        after_kill = attempts[1:]
        assert 1 <= len(after_kill) <= 2, attempts
        assert all(isinstance(outcome, ConnectionRefusedError) for outcome in after_kill)
    finally:
        await redis_limiter.close()


async def test_shared_client_is_left_open(redis_server: RedisServer) -> None:
    """``owns_client=False``: closing one limiter does not close the shared client."""
    client = create_redis_client(redis_server.url, socket_timeout=1.0, connect_timeout=1.0)
    first = RedisLimiter(client, owns_client=False)
    second = RedisLimiter(client, owns_client=False, prefix="other:")
    await first.close()
    assert (await second.hit(uuid.uuid4().hex, Rate.parse("1/second"))).allowed
    await client.aclose()
