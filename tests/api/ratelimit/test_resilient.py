"""ResilientLimiter: breaker and policies, first with a switchable store and a hand-moved
clock (exact), then against a real redis-server that is killed, paused and restarted.

Against the real server the limiter still runs on a hand-moved clock, and its store records
every call: "answers at once" is shown by which calls reached Redis and how each failed
(refused, or timed out by the client's socket timeout), never by timing a call.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from api.ratelimit.base import Decision
from api.ratelimit.errors import LimiterUnavailable
from api.ratelimit.factory import create_redis_client
from api.ratelimit.memory import InMemoryLimiter
from api.ratelimit.rate import Rate
from api.ratelimit.redis_gcra import RedisLimiter
from api.ratelimit.resilient import FailurePolicy, LimiterState, ResilientLimiter
from signing.errors import ConfigError
from tests.waiting import async_wait_until

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


class RecordedStore:
    """A Redis limiter whose every call is recorded: None when Redis decided, else the
    error it raised."""

    def __init__(self, inner: RedisLimiter) -> None:
        self.inner = inner
        self.calls: list[BaseException | None] = []

    async def hit(self, key: str, rate: Rate, cost: int = 1) -> Decision:
        try:
            decision = await self.inner.hit(key, rate, cost)
        except BaseException as exc:
            self.calls.append(exc)
            raise
        self.calls.append(None)
        return decision

    async def healthy(self) -> bool:
        return await self.inner.healthy()

    async def close(self) -> None:
        await self.inner.close()


def make(
    store: SwitchableStore | RecordedStore,
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
async def redis_limiter(own_redis: RedisServer) -> AsyncIterator[RecordedStore]:
    """A Redis limiter with production timeouts (0.1 s) on a server this test may break,
    recording each call."""
    limiter = RecordedStore(RedisLimiter(create_redis_client(own_redis.url)))
    yield limiter
    await limiter.close()


async def hit_or_error(limiter: ResilientLimiter, key: str = "lab:1") -> object:
    """The decision, or the LimiterUnavailable raised."""
    try:
        return await limiter.hit(key, RATE)
    except LimiterUnavailable as exc:
        return exc


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        ("degrade", ["fallback_allowed", "fallback_allowed", "fallback_denied"]),
        ("fail-open", ["fallback_allowed"] * 4 + ["fallback_denied"]),
        ("fail-closed", ["unavailable"] * 3),
    ],
)
async def test_redis_killed_each_policy_answers_without_waiting_for_redis(
    own_redis: RedisServer,
    redis_limiter: RecordedStore,
    policy: FailurePolicy,
    expected: list[str],
) -> None:
    """SIGKILL Redis: each policy answers as designed. Redis is asked only until the breaker
    opens (3 calls, each refused at once: no timeout waited for); the open circuit answers
    the next 20 hits without asking Redis."""
    clock = ManualClock()
    outcomes: list[tuple[str, str]] = []
    limiter = make(redis_limiter, clock, policy, outcomes)
    assert (await limiter.hit("lab:0", RATE)).allowed
    own_redis.kill()
    results = [await hit_or_error(limiter) for _ in range(len(expected))]
    results += [await hit_or_error(limiter, "lab:2") for _ in range(20)]
    assert [o for _, o in outcomes[1 : 1 + len(expected)]] == expected
    assert len(outcomes) == 1 + len(results)  # every hit was decided
    calls = redis_limiter.calls
    assert calls[0] is None
    assert len(calls) == 1 + 3, calls  # breaker_threshold, then the circuit is open
    assert all(isinstance(call, RedisConnectionError) for call in calls[1:]), calls
    assert limiter.circuit_open
    if policy == "fail-closed":
        error = results[0]
        assert isinstance(error, LimiterUnavailable)
        assert error.retry_after > 0
        assert limiter.state is LimiterState.FAILING_CLOSED
    assert not await limiter.healthy()


async def test_paused_redis_times_out_falls_back_and_recovers(
    own_redis: RedisServer, redis_limiter: RecordedStore, caplog: pytest.LogCaptureFixture
) -> None:
    """SIGSTOP: the first 3 calls fail by the client's socket timeout and fall back, then
    the open circuit answers without asking Redis; after SIGCONT, a probe (once
    breaker_reset has passed on the limiter's clock) closes the circuit. Transitions are
    logged once each."""
    caplog.set_level(logging.INFO, logger=LOGGER)
    clock = ManualClock()
    outcomes: list[tuple[str, str]] = []
    limiter = make(redis_limiter, clock, "degrade", outcomes, breaker_reset=0.3)
    assert (await limiter.hit("lab:0", RATE)).allowed
    own_redis.pause(10.0)
    try:
        for _ in range(13):
            await limiter.hit("lab:1", RATE)
    finally:
        own_redis.resume()
    calls = redis_limiter.calls
    assert len(calls) == 1 + 3, calls
    assert all(isinstance(call, RedisTimeoutError) for call in calls[1:]), calls
    assert [o for _, o in outcomes[1:]] == ["fallback_allowed"] * 2 + ["fallback_denied"] * 11
    assert limiter.state is LimiterState.DEGRADED
    assert limiter.circuit_open

    async def probe_closes_the_circuit() -> bool:
        clock.now += 1.0  # past breaker_reset: the next hit is the probe
        await limiter.hit("lab:3", RATE)
        return limiter.state is LimiterState.OK

    await async_wait_until(probe_closes_the_circuit, what="Redis deciding again after SIGCONT")
    assert events(caplog) == [
        "ratelimit_degraded_start",
        "ratelimit_circuit_open",
        "ratelimit_circuit_closed",
        "ratelimit_recovered",
    ]


async def test_recovery_after_redis_restart_at_the_next_probe(
    own_redis: RedisServer, redis_limiter: RecordedStore, caplog: pytest.LogCaptureFixture
) -> None:
    """Redis killed then restarted (empty script cache): once breaker_reset has passed on
    the limiter's clock, a probe gets a decision from Redis again, and it is a fresh
    bucket."""
    caplog.set_level(logging.INFO, logger=LOGGER)
    clock = ManualClock()
    outcomes: list[tuple[str, str]] = []
    limiter = make(redis_limiter, clock, "fail-closed", outcomes, breaker_reset=0.3)
    assert (await limiter.hit("lab:0", RATE)).allowed
    own_redis.kill()
    for _ in range(4):
        assert isinstance(await hit_or_error(limiter), LimiterUnavailable)
    assert limiter.circuit_open
    own_redis.start()
    decided: list[Decision] = []

    async def probe_gets_a_decision() -> bool:
        clock.now += 1.0  # past breaker_reset: the next hit is the probe
        result = await hit_or_error(limiter, "lab:4")
        if isinstance(result, Decision):
            decided.append(result)
        return bool(decided)

    await async_wait_until(probe_gets_a_decision, what="Redis deciding again after restart")
    assert decided[0].allowed
    assert decided[0].remaining == 3
    assert outcomes[-1] == ("lab", "allowed")
    assert events(caplog).count("ratelimit_circuit_open") == 1
    assert events(caplog)[-2:] == ["ratelimit_circuit_closed", "ratelimit_recovered"]
