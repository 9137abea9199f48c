"""SharedDeadline: asyncio.timeout semantics with one timer for many concurrent awaits.

Where the order of deadlines matters, :class:`LoopClock` replaces the event loop's clock:
time moves only when the test says so, and the test resumes once the timers due by then
have run, so no test sleeps to let time pass.
"""

from __future__ import annotations

import asyncio

import pytest

from api.ratelimit.deadlines import SharedDeadline
from signing.errors import ConfigError


class LoopClock:
    """The running loop's clock (``loop.time``), moved only by :meth:`advance`."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self.now = loop.time()

    def time(self) -> float:
        return self.now

    async def advance(self, seconds: float) -> None:
        """Move the clock on by ``seconds``; return once every timer due by then has run."""
        self.now += seconds
        passed: asyncio.Future[None] = self._loop.create_future()
        self._loop.call_at(self.now, passed.set_result, None)  # runs with the other due timers
        await passed


@pytest.fixture
async def loop_clock(monkeypatch: pytest.MonkeyPatch) -> LoopClock:
    """A :class:`LoopClock` in place of the test's event loop clock."""
    loop = asyncio.get_running_loop()
    clock = LoopClock(loop)
    monkeypatch.setattr(loop, "time", clock.time)
    return clock


async def start_guarded(deadline: SharedDeadline) -> asyncio.Task[None]:
    """A task awaiting, under ``deadline``, something that never ends; returned once its
    guard (and so its deadline) is set."""
    started = asyncio.Event()

    async def guarded() -> None:
        started.set()
        await deadline.run(asyncio.Event().wait())  # the guard is set before it suspends

    task = asyncio.create_task(guarded())
    await started.wait()
    return task


async def test_answers_in_time_pass_through(loop_clock: LoopClock) -> None:
    """A guarded await that finishes in time returns its value; nothing is cancelled later."""
    deadline = SharedDeadline(0.05)
    assert await deadline.run(asyncio.sleep(0, result="ok")) == "ok"
    await loop_clock.advance(0.1)  # the armed timer has fired, on a finished guard only
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


async def test_later_awaits_get_their_own_full_timeout(loop_clock: LoopClock) -> None:
    """Guards started later expire later: after the first expiry, the timer re-arms."""
    deadline = SharedDeadline(0.05)
    first = await start_guarded(deadline)  # deadline at 0.05
    await loop_clock.advance(0.03)
    second = await start_guarded(deadline)  # deadline at 0.08
    await loop_clock.advance(0.025)  # 0.055: only the first is overdue
    with pytest.raises(TimeoutError):
        await first
    assert not second.done()
    await loop_clock.advance(0.03)  # 0.085
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
        task = asyncio.current_task()
        assert task is not None
        assert task.cancelling() == 0  # the timeout's cancellation was taken back
        loop = asyncio.get_running_loop()
        later: asyncio.Future[str] = loop.create_future()
        loop.call_soon(later.set_result, "went on")
        return await later  # suspends and resumes: no cancellation is pending

    assert await caller() == "went on"


def test_works_on_a_new_event_loop_and_rejects_bad_timeouts() -> None:
    """One instance used from two successive loops (as tests do); timeout must be > 0."""
    deadline = SharedDeadline(0.02)
    for _ in range(2):
        with pytest.raises(TimeoutError):
            asyncio.run(deadline.run(asyncio.Event().wait()))
    with pytest.raises(ConfigError):
        SharedDeadline(0)
