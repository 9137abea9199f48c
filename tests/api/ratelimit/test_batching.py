"""Auto-pipelined GCRA hits on a real redis-server: concurrent hits share round trips and
are applied in call order; errors reach every waiter; cancelled waiters, NOSCRIPT and a
killed, paused or restarted Redis behave as with one round trip per hit."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from api.ratelimit.base import Decision
from api.ratelimit.factory import create_redis_client
from api.ratelimit.memory import InMemoryLimiter
from api.ratelimit.rate import Rate
from api.ratelimit.redis_gcra import RedisLimiter
from api.ratelimit.resilient import LimiterState, ResilientLimiter
from signing.errors import ConfigError
from tests.waiting import async_wait_until

if TYPE_CHECKING:
    from conftest import RedisServer

RATE = Rate.parse("5/minute")


class ManualClock:
    """Seconds that move only when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def count_round_trips(limiter: RedisLimiter) -> list[int]:
    """Count the batcher's round trips (a spy on its private method)."""
    batcher = limiter._batcher
    calls = [0]
    original: Callable[[list[bytes]], Awaitable[list[Any]]] = batcher._round_trip

    async def counting(commands: list[bytes]) -> list[Any]:
        calls[0] += 1
        return await original(commands)

    batcher._round_trip = counting  # type: ignore[method-assign]
    return calls


def on_next_write(limiter: RedisLimiter) -> asyncio.Event:
    """An event set once the batcher's connection has written its next batch (a spy on the
    connection it keeps checked out)."""
    connection = limiter._batcher._connection
    assert connection is not None, "the batcher has no connection yet"
    written = asyncio.Event()
    original = connection.send_packed_command

    async def sending(*args: Any, **kwargs: Any) -> None:
        await original(*args, **kwargs)
        written.set()

    connection.send_packed_command = sending  # type: ignore[method-assign]
    return written


@pytest.fixture
async def limiter(redis_server: RedisServer) -> AsyncIterator[RedisLimiter]:
    """A Redis limiter on the shared server with a per-test key prefix."""
    client = create_redis_client(redis_server.url, socket_timeout=1.0, connect_timeout=1.0)
    redis_limiter = RedisLimiter(client, prefix=f"test:{uuid.uuid4().hex}:")
    yield redis_limiter
    await redis_limiter.close()


async def test_concurrent_hits_share_one_round_trip_in_call_order(limiter: RedisLimiter) -> None:
    """Seven hits made in one tick: one round trip; the first five (in call order) are
    allowed with remaining 4..0, the last two denied."""
    await limiter.hit("lab:warm-up", RATE)  # the script is loaded (no NOSCRIPT round trip)
    round_trips = count_round_trips(limiter)
    decisions = await asyncio.gather(*(limiter.hit("lab:1", RATE) for _ in range(7)))
    assert round_trips == [1]
    assert [d.allowed for d in decisions] == [True] * 5 + [False] * 2
    assert [d.remaining for d in decisions] == [4, 3, 2, 1, 0, 0, 0]
    assert decisions[-1].headers()["Retry-After"] == "12"


async def test_order_within_a_batch_decides_who_fits(limiter: RedisLimiter) -> None:
    """Costs 3, 3, 2 on a burst of 5 in one batch: 3 fits, the next 3 does not (2 left),
    the 2 then fits. Any other order would answer differently."""
    hits = [limiter.hit("lab:1", RATE, cost) for cost in (3, 3, 2)]
    first, second, third = await asyncio.gather(*hits)
    assert (first.allowed, first.remaining) == (True, 2)
    assert (second.allowed, second.remaining) == (False, 2)
    assert (third.allowed, third.remaining) == (True, 0)


async def test_batches_are_bounded_and_keys_are_independent(redis_server: RedisServer) -> None:
    """``max_batch=4``: ten hits over two keys take three round trips, and each key still
    counts its own hits in call order."""
    client = create_redis_client(redis_server.url, socket_timeout=1.0, connect_timeout=1.0)
    limiter = RedisLimiter(client, prefix=f"test:{uuid.uuid4().hex}:", max_batch=4)
    await limiter.hit("warm-up", RATE)
    round_trips = count_round_trips(limiter)
    try:
        keys = ["lab:1", "lab:2"] * 5
        decisions = await asyncio.gather(*(limiter.hit(key, RATE) for key in keys))
        assert round_trips == [3]
        assert [d.remaining for d in decisions[0::2]] == [4, 3, 2, 1, 0]
        assert [d.remaining for d in decisions[1::2]] == [4, 3, 2, 1, 0]
    finally:
        await limiter.close()


async def test_hit_at_is_batched_with_its_explicit_clock(limiter: RedisLimiter) -> None:
    """The test hook takes the same path: two hits at the same injected instant."""
    now = 1_760_000_000_000_000
    first, second = await asyncio.gather(
        limiter.hit_at("lab:1", RATE, 2, now_us=now), limiter.hit_at("lab:1", RATE, now_us=now)
    )
    assert (first.remaining, second.remaining) == (3, 2)
    assert second.reset_after == 36.0


async def test_one_failing_script_fails_only_its_waiter(
    redis_server: RedisServer, limiter: RedisLimiter
) -> None:
    """A key of the wrong type makes its own EVALSHA fail (WRONGTYPE); the other hits of
    the batch are answered normally and the connection stays usable."""
    with redis_server.client() as inspect:
        inspect.hset(limiter.prefix + "lab:bad", "field", "value")
    results = await asyncio.gather(
        limiter.hit("lab:1", RATE),
        limiter.hit("lab:bad", RATE),
        limiter.hit("lab:1", RATE),
        return_exceptions=True,
    )
    assert isinstance(results[1], ResponseError)
    assert [r.remaining for r in results if isinstance(r, Decision)] == [4, 3]
    assert (await limiter.hit("lab:1", RATE)).remaining == 2


async def test_script_flush_reloads_once_for_the_whole_batch(
    redis_server: RedisServer, limiter: RedisLimiter
) -> None:
    """After SCRIPT FLUSH every hit of a batch gets NOSCRIPT: one SCRIPT LOAD round trip
    sends them again, in order."""
    assert (await limiter.hit("lab:1", RATE)).remaining == 4
    with redis_server.client() as inspect:
        inspect.script_flush()
    round_trips = count_round_trips(limiter)
    decisions = await asyncio.gather(*(limiter.hit("lab:1", RATE) for _ in range(4)))
    assert [d.remaining for d in decisions] == [3, 2, 1, 0]
    assert round_trips == [2]


async def test_restart_reconnects_and_reloads_for_a_batch(own_redis: RedisServer) -> None:
    """Kill + restart: the pooled connection is broken and the script cache empty; a batch
    reconnects once, reloads the script and every hit gets a fresh bucket."""
    limiter = RedisLimiter(create_redis_client(own_redis.url))
    try:
        assert (await limiter.hit("lab:1", RATE)).remaining == 4
        own_redis.restart()
        decisions = await asyncio.gather(*(limiter.hit("lab:1", RATE) for _ in range(3)))
        assert [d.remaining for d in decisions] == [4, 3, 2]
    finally:
        await limiter.close()


async def test_connection_refused_reaches_every_waiter(own_redis: RedisServer) -> None:
    """Redis gone: each waiter of the batch gets its own Redis ConnectionError."""
    limiter = RedisLimiter(create_redis_client(own_redis.url))
    try:
        assert (await limiter.hit("lab:1", RATE)).allowed
        own_redis.kill()
        results = await asyncio.gather(
            *(limiter.hit("lab:1", RATE) for _ in range(5)), return_exceptions=True
        )
        assert all(isinstance(r, RedisConnectionError) for r in results)
        assert len({id(r) for r in results}) == 5
    finally:
        await limiter.close()


async def test_paused_redis_times_out_every_waiter_then_works(own_redis: RedisServer) -> None:
    """SIGSTOP: the batch's read times out (0.1 s) and every waiter gets a Redis
    TimeoutError; after SIGCONT the next batch is answered (no stale reply is read)."""
    limiter = RedisLimiter(create_redis_client(own_redis.url))
    try:
        assert (await limiter.hit("lab:1", RATE)).remaining == 4
        own_redis.pause(10.0)
        try:
            results = await asyncio.gather(
                *(limiter.hit("lab:1", RATE) for _ in range(4)), return_exceptions=True
            )
        finally:
            own_redis.resume()
        assert all(isinstance(r, RedisTimeoutError) for r in results), results
        after = await asyncio.gather(*(limiter.hit("lab:2", RATE) for _ in range(2)))
        assert [d.remaining for d in after] == [4, 3]
    finally:
        await limiter.close()


async def test_a_waiter_cancelled_before_sending_is_withdrawn(limiter: RedisLimiter) -> None:
    """A hit cancelled before its batch leaves spends nothing; the others are answered."""
    tasks = [asyncio.create_task(limiter.hit("lab:1", RATE)) for _ in range(3)]
    await asyncio.sleep(0)  # each task has queued its hit; the batch is not sent yet
    tasks[1].cancel()
    done = await asyncio.gather(*tasks, return_exceptions=True)
    assert isinstance(done[1], asyncio.CancelledError)
    assert [d.remaining for d in done if isinstance(d, Decision)] == [4, 3]
    assert (await limiter.hit("lab:1", RATE)).remaining == 2


async def test_a_waiter_cancelled_in_flight_does_not_break_the_batch(
    own_redis: RedisServer,
) -> None:
    """A hit cancelled while its batch is in flight (Redis paused) stops waiting; its
    neighbours get their answers once Redis resumes, and the limiter keeps working."""
    limiter = RedisLimiter(create_redis_client(own_redis.url, socket_timeout=5.0))
    try:
        assert (await limiter.hit("lab:1", RATE)).remaining == 4
        written = on_next_write(limiter)
        own_redis.pause(10.0)
        tasks = [asyncio.create_task(limiter.hit("lab:1", RATE)) for _ in range(3)]
        await written.wait()  # the batch of the three is written and waits for Redis
        tasks[0].cancel()
        await asyncio.wait([tasks[0]])  # it has stopped waiting, Redis still paused
        own_redis.resume()
        done = await asyncio.gather(*tasks, return_exceptions=True)
        assert isinstance(done[0], asyncio.CancelledError)
        assert [d.remaining for d in done[1:] if isinstance(d, Decision)] == [2, 1]
        assert (await limiter.hit("lab:1", RATE)).remaining == 0  # the cancelled one ran
    finally:
        await limiter.close()


async def test_close_cancels_pending_hits_and_later_hits_fail_like_redis(
    redis_server: RedisServer,
) -> None:
    """close() cancels the waiters of a batch in flight; a hit after close raises a Redis
    ConnectionError, which a ResilientLimiter answers per policy instead of a 500."""
    client = create_redis_client(redis_server.url, socket_timeout=1.0, connect_timeout=1.0)
    limiter = RedisLimiter(client, prefix=f"test:{uuid.uuid4().hex}:")
    pending = asyncio.create_task(limiter.hit("lab:1", RATE))
    await asyncio.sleep(0)
    await limiter.close()
    with pytest.raises(asyncio.CancelledError):
        await pending
    with pytest.raises(RedisConnectionError):
        await limiter.hit("lab:1", RATE)
    resilient = ResilientLimiter(limiter, InMemoryLimiter(), policy="fail-open")
    assert (await resilient.hit("lab:1", RATE)).allowed


async def test_max_batch_must_be_positive(redis_server: RedisServer) -> None:
    """A batch of zero hits is a configuration error."""
    client = create_redis_client(redis_server.url, socket_timeout=1.0, connect_timeout=1.0)
    try:
        with pytest.raises(ConfigError):
            RedisLimiter(client, max_batch=0)
    finally:
        await client.aclose()


@pytest.mark.parametrize("fault", ["kill", "pause"])
async def test_concurrent_hits_on_a_failing_redis_open_the_breaker_once(
    own_redis: RedisServer, fault: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Eight concurrent issuance-shaped hits while Redis is killed or paused: every one is
    decided by the degrade policy, the breaker opens (one log line), and Redis decides
    again after it is back (at a probe, once breaker_reset has passed on the limiter's
    clock)."""
    caplog.set_level(logging.INFO, logger="test.ratelimit.batching")
    outcomes: list[str] = []
    clock = ManualClock()
    limiter = ResilientLimiter(
        RedisLimiter(create_redis_client(own_redis.url)),
        InMemoryLimiter(),
        policy="degrade",
        fallback_divisor=2,
        breaker_reset=0.2,
        clock=clock,
        logger=logging.getLogger("test.ratelimit.batching"),
        on_decision=lambda _kind, outcome: outcomes.append(outcome),
    )
    try:
        assert (await limiter.hit("lab:0", RATE)).allowed
        if fault == "kill":
            own_redis.kill()
        else:
            own_redis.pause(10.0)
        try:
            decisions = await asyncio.gather(
                *(limiter.hit(f"lab:{i}", RATE) for i in range(8)),
            )
        finally:
            if fault == "kill":
                own_redis.start()
            else:
                own_redis.resume()
        assert all(d.allowed for d in decisions)
        assert outcomes[1:] == ["fallback_allowed"] * 8
        assert limiter.circuit_open
        assert limiter.state is LimiterState.DEGRADED
        opened = [r for r in caplog.records if getattr(r, "event", "") == "ratelimit_circuit_open"]
        assert len(opened) == 1

        async def probe_closes_the_circuit() -> bool:
            clock.now += 1.0  # past breaker_reset: the next hit is the probe
            await limiter.hit("lab:9", RATE)
            return limiter.state is LimiterState.OK

        await async_wait_until(probe_closes_the_circuit, what=f"Redis deciding after {fault}")
        assert outcomes[-1] == "allowed"
    finally:
        await limiter.close()
