"""One timer for many awaits that share a timeout: ``asyncio.timeout`` without a timer each.

Why: ``asyncio.timeout`` schedules and cancels one timer per use, about 6 µs of CPU under
uvloop; :class:`~api.ratelimit.resilient.ResilientLimiter` bounds every Redis decision, so
that cost was paid twice per issuance. Calls guarded by one :class:`SharedDeadline` all use
the same timeout, so their deadlines expire in the order they started: a FIFO queue and a
single timer armed for the oldest unfinished call are enough. Starting and finishing a
guarded call costs an append and a flag.

Semantics follow ``asyncio.timeout``: when the deadline passes, the task is cancelled and,
if that cancellation is the only one, the guarded ``await`` raises :class:`TimeoutError`;
a cancellation from elsewhere (e.g. the client went away) propagates unchanged.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable
from typing import Any, TypeVar

from signing.errors import ConfigError

__all__ = ["SharedDeadline"]

T = TypeVar("T")


class _Guard:
    """One guarded await: its deadline and task, and whether it ended or expired."""

    __slots__ = ("deadline", "expired", "finished", "task")

    def __init__(self, deadline: float, task: asyncio.Task[Any]) -> None:
        self.deadline = deadline
        self.task = task
        self.finished = False
        self.expired = False


class SharedDeadline:
    """Bounds awaits by ``timeout`` seconds each, with one timer per event loop at most."""

    def __init__(self, timeout: float) -> None:
        """``timeout`` > 0 seconds, the same for every guarded await."""
        if timeout <= 0:
            raise ConfigError("timeout must be positive", code="rate_limiter_invalid")
        self._timeout = timeout
        self._guards: deque[_Guard] = deque()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._timer: asyncio.TimerHandle | None = None

    async def run(self, awaitable: Awaitable[T]) -> T:
        """Await ``awaitable`` in the current task; :class:`TimeoutError` after ``timeout``."""
        task = asyncio.current_task()
        if task is None:  # not in a task (cannot be cancelled): no bound possible
            return await awaitable
        loop = task.get_loop()
        if loop is not self._loop:  # first use, or a new loop (tests): forget the old one
            self._reset(loop)
        guard = _Guard(loop.time() + self._timeout, task)
        self._guards.append(guard)
        if self._timer is None:
            self._timer = loop.call_at(guard.deadline, self._expire)
        cancelling = task.cancelling()
        try:
            return await awaitable
        except asyncio.CancelledError as exc:
            if guard.expired and task.uncancel() <= cancelling:
                raise TimeoutError(f"no answer within {self._timeout} s") from exc
            raise
        finally:
            guard.finished = True

    def _expire(self) -> None:
        """Timer callback: cancel every overdue unfinished await, re-arm for the next."""
        self._timer = None
        loop, guards = self._loop, self._guards
        assert loop is not None
        now = loop.time()
        while guards:
            guard = guards[0]
            if not guard.finished:
                if guard.deadline > now:
                    self._timer = loop.call_at(guard.deadline, self._expire)
                    return
                guard.expired = True
                guard.task.cancel()
            guards.popleft()

    def _reset(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._guards.clear()
        self._loop = loop
