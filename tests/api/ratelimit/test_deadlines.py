"""SharedDeadline: asyncio.timeout semantics with one timer for many concurrent awaits."""

from __future__ import annotations

import asyncio

import pytest

from api.ratelimit.deadlines import SharedDeadline
from signing.errors import ConfigError


async def test_answers_in_time_pass_through() -> None:
    """A guarded await that finishes in time returns its value; nothing is cancelled later."""
    deadline = SharedDeadline(0.05)
    assert await deadline.run(asyncio.sleep(0, result="ok")) == "ok"
    await asyncio.sleep(0.1)  # the armed timer fires on finished guards only
    assert await deadline.run(asyncio.sleep(0, result=2)) == 2


async def test_overdue_awaits_raise_timeout_error_and_others_finish() -> None:
    """Of many concurrent awaits, those still waiting at the deadline get TimeoutError
    (a built-in, hence OSError, which the limiter counts as a store failure); those that
    finish in time are untouched."""
    deadline = SharedDeadline(0.05)
    never = asyncio.Event()
    hanging = [asyncio.create_task(deadline.run(never.wait())) for _ in range(5)]
    quick = [asyncio.create_task(deadline.run(asyncio.sleep(0, result=i))) for i in range(5)]
    results = await asyncio.gather(*hanging, *quick, return_exceptions=True)
    assert all(isinstance(r, TimeoutError) for r in results[:5])
    assert isinstance(results[0], OSError)
    assert results[5:] == [0, 1, 2, 3, 4]


async def test_later_awaits_get_their_own_full_timeout() -> None:
    """Guards started later expire later: after the first expiry, the timer re-arms."""
    deadline = SharedDeadline(0.05)
    never = asyncio.Event()
    first = asyncio.create_task(deadline.run(never.wait()))
    await asyncio.sleep(0.03)
    second = asyncio.create_task(deadline.run(never.wait()))
    with pytest.raises(TimeoutError):
        await first
    assert not second.done()
    with pytest.raises(TimeoutError):
        await second


async def test_an_outside_cancellation_stays_a_cancellation() -> None:
    """Cancelling the task (client gone) propagates CancelledError, not TimeoutError."""
    deadline = SharedDeadline(10.0)
    task = asyncio.create_task(deadline.run(asyncio.Event().wait()))
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_the_task_can_go_on_after_a_timeout() -> None:
    """After a timeout the task is not left cancelled: it can await again."""
    deadline = SharedDeadline(0.02)

    async def caller() -> str:
        with pytest.raises(TimeoutError):
            await deadline.run(asyncio.Event().wait())
        await asyncio.sleep(0.01)
        return "went on"

    assert await caller() == "went on"


def test_works_on_a_new_event_loop_and_rejects_bad_timeouts() -> None:
    """One instance used from two successive loops (as tests do); timeout must be > 0."""
    deadline = SharedDeadline(0.02)
    for _ in range(2):
        with pytest.raises(TimeoutError):
            asyncio.run(deadline.run(asyncio.Event().wait()))
    with pytest.raises(ConfigError):
        SharedDeadline(0)
