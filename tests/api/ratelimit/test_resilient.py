"""ResilientLimiter: breaker and policies, first with a switchable store and a hand-moved
clock (exact), then against a real redis-server that is killed, paused and restarted."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from api.ratelimit.base import Decision
from api.ratelimit.errors import LimiterUnavailable
from api.ratelimit.factory import create_redis_client
from api.ratelimit.memory import InMemoryLimiter
from api.ratelimit.rate import Rate
from api.ratelimit.redis_gcra import RedisLimiter
from api.ratelimit.resilient import FailurePolicy, LimiterState, ResilientLimiter
from signing.errors import ConfigError

if TYPE_CHECKING:
    from conftest import RedisServer

LOGGER = "test.ratelimit.resilient"
RATE = Rate.parse("4/minute")  # fallback share with divisor 2: 2/minute, one cell per 30 s


class ManualClock:
    """Seconds that move only when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class SwitchableStore:
    """A working shared store (an in-memory GCRA) that fails like Redis while ``down``."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.inner = InMemoryLimiter(clock=clock)
        self.down = False
        self.calls = 0

    async def hit(self, key: str, rate: Rate, cost: int = 1) -> Decision:
        self.calls += 1
        if self.down:
            raise RedisConnectionError("Connection refused")
        return await self.inner.hit(key, rate, cost)

    async def healthy(self) -> bool:
        return not self.down

    async def close(self) -> None:
        await self.inner.close()


def events(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The ``event`` names logged by the limiter, in order."""
    return [getattr(r, "event", "") for r in caplog.records if r.name == LOGGER]


def make(
    store: SwitchableStore | RedisLimiter,
    clock: Callable[[], float],
    policy: FailurePolicy,
    outcomes: list[tuple[str, str]],
    **options: float,
) -> ResilientLimiter:
    return ResilientLimiter(
        store,
        InMemoryLimiter(clock=clock),
        policy=policy,
        fallback_divisor=2,
        clock=clock,
        logger=logging.getLogger(LOGGER),
        on_decision=lambda kind, outcome: outcomes.append((kind, outcome)),
        **options,  # type: ignore[arg-type]
    )


async def test_breaker_opens_after_threshold_and_probes_once_per_period(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """3 consecutive failures open the circuit; while open Redis is skipped; after
    ``breaker_reset`` one probe goes through; a failed probe keeps it open, a good one
    closes it. Each transition is logged exactly once."""
    caplog.set_level(logging.INFO, logger=LOGGER)
    clock = ManualClock()
    store = SwitchableStore(clock)
    outcomes: list[tuple[str, str]] = []
    limiter = make(store, clock, "degrade", outcomes, breaker_reset=2.0)

    assert (await limiter.hit("lab:1", RATE)).allowed
    store.down = True
    for _ in range(2):
        await limiter.hit("lab:1", RATE)
    assert not limiter.circuit_open
    await limiter.hit("lab:1", RATE)
    assert limiter.circuit_open
    assert store.calls == 4
    for _ in range(5):
        await limiter.hit("lab:2", RATE)
    assert store.calls == 4, "an open circuit must not call Redis"
    clock.now += 2.0
    await limiter.hit("lab:2", RATE)  # the probe fails
    await limiter.hit("lab:2", RATE)
    assert store.calls == 5
    assert limiter.circuit_open
    store.down = False
    clock.now += 1.9
    await limiter.hit("lab:2", RATE)
    assert store.calls == 5, "the failed probe restarted the open period"
    clock.now += 0.1
    assert (await limiter.hit("lab:1", RATE)).allowed
    assert store.calls == 6
    assert not limiter.circuit_open
    assert limiter.state is LimiterState.OK
    assert events(caplog) == [
        "ratelimit_degraded_start",
        "ratelimit_circuit_open",
        "ratelimit_circuit_closed",
        "ratelimit_recovered",
    ]
    assert [r.levelno for r in caplog.records if r.name == LOGGER] == [
        logging.WARNING,
        logging.WARNING,
        logging.INFO,
        logging.INFO,
    ]
    counts = Counter(outcome for _, outcome in outcomes)
    assert counts["allowed"] == 2
    assert counts["fallback_allowed"] + counts["fallback_denied"] == 11
    assert {kind for kind, _ in outcomes} == {"lab"}


async def test_degrade_uses_the_divided_rate_then_fails_closed_after_degrade_for(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Degraded: the replica share (4/minute / 2 = burst 2); after ``degrade_for`` seconds
    of continuous outage: LimiterUnavailable with a Retry-After until the next probe."""
    caplog.set_level(logging.INFO, logger=LOGGER)
    clock = ManualClock()
    store = SwitchableStore(clock)
    store.down = True
    outcomes: list[tuple[str, str]] = []
    limiter = make(store, clock, "degrade", outcomes, degrade_for=60.0, breaker_reset=2.0)

    decisions = [await limiter.hit("lab:1", RATE) for _ in range(3)]
    assert [d.allowed for d in decisions] == [True, True, False]
    assert decisions[2].retry_after == 30.0
    assert limiter.state is LimiterState.DEGRADED
    # A batch that fits the real burst but not the outage share waits for Redis, not for ever.
    batch = await limiter.hit("lab:2", RATE, 3)
    assert not batch.allowed
    assert not batch.impossible
    assert batch.retry_after > 0
    assert (await limiter.hit("lab:2", RATE, 5)).impossible
    clock.now += 60.0
    assert limiter.state is LimiterState.FAILING_CLOSED
    with pytest.raises(LimiterUnavailable) as caught:
        await limiter.hit("lab:1", RATE)
    assert caught.value.code == "rate_limiter_unavailable"
    assert caught.value.retry_after == 2.0  # that call's probe failed: next one in 2 s
    store.down = False
    clock.now += 2.0
    assert (await limiter.hit("lab:1", RATE)).allowed
    assert limiter.state is LimiterState.OK
    assert events(caplog) == [
        "ratelimit_degraded_start",
        "ratelimit_circuit_open",
        "ratelimit_failing_closed_start",
        "ratelimit_circuit_closed",
        "ratelimit_recovered",
    ]
    assert outcomes[:3] == [
        ("lab", "fallback_allowed"),
        ("lab", "fallback_allowed"),
        ("lab", "fallback_denied"),
    ]
    assert ("lab", "unavailable") in outcomes


async def test_fail_open_keeps_the_normal_rate() -> None:
    """fail-open (verify): the local limiter applies the full rate, not the share."""
    clock = ManualClock()
    store = SwitchableStore(clock)
    store.down = True
    outcomes: list[tuple[str, str]] = []
    limiter = make(store, clock, "fail-open", outcomes)
    allowed = [(await limiter.hit("verify:203.0.113.9", RATE)).allowed for _ in range(5)]
    assert allowed == [True, True, True, True, False]
    assert limiter.state is LimiterState.OPEN_FALLBACK
    assert outcomes[-1] == ("verify", "fallback_denied")


def test_settings_are_validated() -> None:
    """Unknown policies and non-positive breaker settings are configuration errors."""
    clock = ManualClock()
    for options in (
        {"policy": "fail-maybe"},
        {"policy": "degrade", "breaker_threshold": 0},
        {"policy": "degrade", "breaker_reset": 0.0},
        {"policy": "degrade", "fallback_divisor": 0},
        {"policy": "degrade", "degrade_for": -1.0},
    ):
        with pytest.raises(ConfigError):
            ResilientLimiter(SwitchableStore(clock), InMemoryLimiter(), **options)


# --- against a real redis-server -------------------------------------------------------


@pytest.fixture
async def redis_limiter(own_redis: RedisServer) -> AsyncIterator[RedisLimiter]:
    """A Redis limiter with production timeouts (0.1 s) on a server this test may break."""
    limiter = RedisLimiter(create_redis_client(own_redis.url))
    yield limiter
    await limiter.close()


async def timed_hit(limiter: ResilientLimiter, key: str = "lab:1") -> tuple[object, float]:
    """(decision or the LimiterUnavailable raised, seconds taken)."""
    started = time.perf_counter()
    try:
        result: object = await limiter.hit(key, RATE)
    except LimiterUnavailable as exc:
        result = exc
    return result, time.perf_counter() - started


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        ("degrade", ["fallback_allowed", "fallback_allowed", "fallback_denied"]),
        ("fail-open", ["fallback_allowed"] * 4 + ["fallback_denied"]),
        ("fail-closed", ["unavailable"] * 3),
    ],
)
async def test_redis_killed_each_policy_answers_in_milliseconds(
    own_redis: RedisServer,
    redis_limiter: RedisLimiter,
    policy: FailurePolicy,
    expected: list[str],
) -> None:
    """SIGKILL Redis: each policy answers as designed, every call well under 0.5 s."""
    outcomes: list[tuple[str, str]] = []
    limiter = make(redis_limiter, time.monotonic, policy, outcomes)
    assert (await limiter.hit("lab:0", RATE)).allowed
    own_redis.kill()
    results = [await timed_hit(limiter) for _ in range(len(expected))]
    results += [await timed_hit(limiter, "lab:2") for _ in range(20)]
    assert [o for _, o in outcomes[1 : 1 + len(expected)]] == expected
    assert max(seconds for _, seconds in results) < 0.5
    if policy == "fail-closed":
        error = results[0][0]
        assert isinstance(error, LimiterUnavailable)
        assert error.retry_after > 0
        assert limiter.state is LimiterState.FAILING_CLOSED
    assert not await limiter.healthy()


async def test_paused_redis_times_out_falls_back_and_recovers(
    own_redis: RedisServer, redis_limiter: RedisLimiter, caplog: pytest.LogCaptureFixture
) -> None:
    """SIGSTOP: the first calls hit the 0.1 s read timeout and fall back, then the open
    circuit answers at once; after SIGCONT the next probe (within breaker_reset) closes
    the circuit. Transitions are logged once each."""
    caplog.set_level(logging.INFO, logger=LOGGER)
    outcomes: list[tuple[str, str]] = []
    limiter = make(redis_limiter, time.monotonic, "degrade", outcomes, breaker_reset=0.3)
    assert (await limiter.hit("lab:0", RATE)).allowed
    own_redis.pause(10.0)
    try:
        slow = [await timed_hit(limiter) for _ in range(3)]
        fast = [await timed_hit(limiter) for _ in range(10)]
    finally:
        own_redis.resume()
    resumed = time.perf_counter()
    assert all(0.05 < seconds < 0.5 for _, seconds in slow)
    assert max(seconds for _, seconds in fast) < 0.05
    assert limiter.state is LimiterState.DEGRADED
    assert limiter.circuit_open
    while limiter.state is not LimiterState.OK:
        assert time.perf_counter() - resumed < 0.3 + 0.5, "no recovery after SIGCONT"
        await timed_hit(limiter, "lab:3")
        await asyncio.sleep(0.02)
    assert events(caplog) == [
        "ratelimit_degraded_start",
        "ratelimit_circuit_open",
        "ratelimit_circuit_closed",
        "ratelimit_recovered",
    ]


async def test_recovery_after_redis_restart_within_breaker_reset(
    own_redis: RedisServer, redis_limiter: RedisLimiter, caplog: pytest.LogCaptureFixture
) -> None:
    """Redis killed then restarted (empty script cache): decisions come from Redis again
    within breaker_reset plus a little, and the first Redis answer is a fresh bucket."""
    caplog.set_level(logging.INFO, logger=LOGGER)
    outcomes: list[tuple[str, str]] = []
    limiter = make(redis_limiter, time.monotonic, "fail-closed", outcomes, breaker_reset=0.3)
    assert (await limiter.hit("lab:0", RATE)).allowed
    own_redis.kill()
    for _ in range(4):
        await timed_hit(limiter)
    assert limiter.circuit_open
    own_redis.start()
    restarted = time.perf_counter()
    while True:
        result, _ = await timed_hit(limiter, "lab:4")
        if isinstance(result, Decision):
            break
        assert time.perf_counter() - restarted < 0.3 + 0.5, "no recovery after restart"
        await asyncio.sleep(0.02)
    assert result.allowed
    assert result.remaining == 3
    assert outcomes[-1] == ("lab", "allowed")
    assert events(caplog).count("ratelimit_circuit_open") == 1
    assert events(caplog)[-2:] == ["ratelimit_circuit_closed", "ratelimit_recovered"]
