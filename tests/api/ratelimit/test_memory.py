"""The in-process GCRA: identical to the reference model, bounded memory, atomic under asyncio."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from api.ratelimit.memory import InMemoryLimiter, gcra
from api.ratelimit.rate import Rate
from signing.errors import ConfigError

if TYPE_CHECKING:
    from conftest import GcraModel


class ManualClock:
    """A clock the test moves by hand (seconds)."""

    def __init__(self, now_us: int) -> None:
        self.now_us = now_us

    def __call__(self) -> float:
        return self.now_us / 1_000_000


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[Rate, list[tuple[int, int]]]:
    """A rate (including intervals that are not whole microseconds) and (advance µs, cost)
    steps; advances up to two bucket depths, costs up to burst + 1 (impossible)."""
    count = draw(st.integers(1, 12))
    period = draw(st.sampled_from([1.0, 60.0, 3600.0]))
    rate = Rate(count=count, period_seconds=period, burst=draw(st.integers(1, 8)))
    advance = st.one_of(
        st.just(0),
        st.integers(0, rate.emission_interval_us * 2),
        st.integers(0, rate.depth_us * 2),
    )
    steps = draw(
        st.lists(st.tuples(advance, st.integers(1, rate.burst + 1)), min_size=1, max_size=25)
    )
    return rate, steps


@settings(max_examples=60, deadline=None)
@given(scenario=scenarios())
def test_in_memory_limiter_matches_the_model(
    gcra_model: type[GcraModel], scenario: tuple[Rate, list[tuple[int, int]]]
) -> None:
    """Every decision (verdict, remaining, retry, reset) equals the textbook GCRA's."""
    rate, steps = scenario
    clock = ManualClock(10**11)
    limiter = InMemoryLimiter(clock=clock)
    model = gcra_model(rate)
    for advance, cost in steps:
        clock.now_us += advance
        got = limiter.decide("lab:1", rate, cost)
        want = model.hit(clock.now_us, cost)
        assert (got.allowed, got.impossible, got.remaining) == (
            want.allowed,
            want.impossible,
            want.remaining,
        )
        assert got.retry_after == want.retry_after_us / 1_000_000
        assert got.reset_after == want.reset_after_us / 1_000_000
        assert got.limit == rate.burst


def test_gcra_denied_or_impossible_hits_store_nothing() -> None:
    """Only an allowed hit returns a new TAT: denied and impossible hits spend nothing."""
    rate = Rate.parse("2/second")
    tat, answer = gcra(None, 0, rate, 2)
    assert (tat, answer) == (1_000_000, (1, 0, 0, 1_000_000))
    assert gcra(tat, 0, rate, 1) == (None, (0, 0, 500_000, 1_000_000))
    assert gcra(tat, 0, rate, 3) == (None, (-1, 0, 0, 1_000_000))


async def test_batch_spends_its_cost_and_oversized_batch_is_impossible() -> None:
    """A cost of N spends N cells at once; a cost above the burst is never allowed."""
    clock = ManualClock(0)
    limiter = InMemoryLimiter(clock=clock)
    rate = Rate.parse("10/minute")
    assert (await limiter.hit("lab:1", rate, 7)).remaining == 3
    denied = await limiter.hit("lab:1", rate, 4)
    assert (denied.allowed, denied.remaining, denied.retry_after) == (False, 3, 6.0)
    impossible = await limiter.hit("lab:1", rate, 11)
    assert impossible.impossible
    assert not impossible.allowed
    assert (await limiter.hit("lab:1", rate, 3)).remaining == 0


async def test_keys_are_independent() -> None:
    """Spending one key's bucket leaves another's full."""
    limiter = InMemoryLimiter(clock=ManualClock(0))
    rate = Rate.parse("1/hour")
    assert (await limiter.hit("lab:1", rate)).allowed
    assert not (await limiter.hit("lab:1", rate)).allowed
    assert (await limiter.hit("lab:2", rate)).allowed


def test_memory_stays_bounded_and_full_buckets_go_first() -> None:
    """Over ``max_keys``, expired keys are dropped first, then the keys closest to full."""
    clock = ManualClock(0)
    limiter = InMemoryLimiter(clock=clock, max_keys=100)
    slow, fast = Rate.parse("1/hour"), Rate.parse("1000/second")
    for i in range(50):
        limiter.decide(f"busy:{i}", slow)
    for i in range(50):
        limiter.decide(f"idle:{i}", fast)
    clock.now_us += 10_000  # the fast buckets are full again (TAT passed)
    limiter.decide("new:0", slow)
    assert len(limiter) == 51
    for i in range(5000):
        limiter.decide(f"flood:{i}", slow)
        assert len(limiter) <= 100
    # The busy keys (oldest, emptiest buckets) may be forgotten, but never grow memory.
    assert len(limiter) <= 100


async def test_concurrent_tasks_never_overspend() -> None:
    """Many tasks hitting one key at the same instant get exactly ``burst`` admissions."""
    limiter = InMemoryLimiter(clock=ManualClock(0))
    rate = Rate.parse("20/minute")
    decisions = await asyncio.gather(*(limiter.hit("global", rate) for _ in range(100)))
    assert sum(d.allowed for d in decisions) == 20


def test_invalid_cost_and_max_keys_are_refused() -> None:
    """A cost below one or a store of no keys is a configuration error."""
    limiter = InMemoryLimiter()
    for cost in (0, -1):
        with pytest.raises(ConfigError) as caught:
            limiter.decide("lab:1", Rate.parse("1/second"), cost)
        assert caught.value.code == "rate_cost_invalid"
    with pytest.raises(ConfigError):
        InMemoryLimiter(max_keys=0)


async def test_close_forgets_everything_and_it_is_always_healthy() -> None:
    """The store is process memory: healthy by definition; close empties it."""
    limiter = InMemoryLimiter()
    await limiter.hit("lab:1", Rate.parse("1/second"))
    assert await limiter.healthy()
    await limiter.close()
    assert len(limiter) == 0
