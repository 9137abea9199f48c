"""Waiting on a state instead of sleeping: poll a condition until it holds.

Tests wait on events or states, never for a fixed delay (too long on a quiet box, too short
on a loaded one), and never assert how long something took (speed is measured by the
benchmark scripts). When no event tells that a state was reached (another process, a server
answering), :func:`wait_until` / :func:`async_wait_until` poll it. The deadline only turns
a hang into a failure that says what never happened: it is generous, and it is not what a
test checks.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import Final

__all__ = ["DEFAULT_TIMEOUT", "POLL_INTERVAL", "async_wait_until", "wait_until"]

DEFAULT_TIMEOUT: Final = 10.0
"""Seconds before giving up: far beyond what any awaited state takes, even on a slow box."""
POLL_INTERVAL: Final = 0.005
"""Seconds between two polls of a condition that is cheap to evaluate."""

Message = str | Callable[[], str]


def _failure(what: Message, timeout: float) -> AssertionError:
    text = what() if callable(what) else what
    return AssertionError(f"not reached within {timeout} s: {text}")


def wait_until(
    condition: Callable[[], bool],
    *,
    what: Message,
    timeout: float = DEFAULT_TIMEOUT,
    interval: float = POLL_INTERVAL,
) -> None:
    """Return once ``condition()`` is true; fail with ``what`` (the awaited state, or a
    callable giving it, e.g. with a server's log) if it is still false after ``timeout``.

    ``condition`` may itself raise (e.g. "the server exited"): that failure ends the wait.
    ``interval`` is the pause between two polls (longer for a poll that asks a server).
    """
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise _failure(what, timeout)
        time.sleep(interval)


async def async_wait_until(
    condition: Callable[[], bool | Awaitable[bool]],
    *,
    what: Message,
    timeout: float = DEFAULT_TIMEOUT,
    interval: float = POLL_INTERVAL,
) -> None:
    """:func:`wait_until` for coroutines: the event loop runs between polls, and
    ``condition`` may be a coroutine function (e.g. one that asks a server)."""
    deadline = time.monotonic() + timeout
    while True:
        reached = condition()
        if inspect.isawaitable(reached):
            reached = await reached
        if reached:
            return
        if time.monotonic() > deadline:
            raise _failure(what, timeout)
        await asyncio.sleep(interval)
