"""A bounded pool of signers that callers borrow with a timeout.

The number of signer slots is the real signing capacity (an HSM session each, later). A
caller that cannot get a slot within the timeout gets :class:`SignerUnavailable` (the service
answers 503 + Retry-After) instead of joining an unbounded queue. Async callers wait on a
future, so the event loop keeps running; threads (batch workers, the CLI) wait on an event.
Slots are handed over first come, first served.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field

from signing.errors import ConfigError, SignerUnavailable
from signing.signer import Signer

__all__ = ["SignerPool", "WaitObserver"]

WaitObserver = Callable[[float, bool], None]
"""Called with (seconds waited, whether a slot was obtained) after every acquire."""


@dataclass(eq=False)
class _Waiter:
    """One caller waiting for a slot: a thread (``event``) or a coroutine (``future``)."""

    event: threading.Event | None = None
    future: asyncio.Future[Signer] | None = None
    loop: asyncio.AbstractEventLoop | None = None
    signer: Signer | None = field(default=None)

    def hand_over(self, signer: Signer) -> None:
        self.signer = signer
        if self.event is not None:
            self.event.set()
        elif self.future is not None and self.loop is not None:
            self.loop.call_soon_threadsafe(self._resolve, signer)

    def _resolve(self, signer: Signer) -> None:
        assert self.future is not None
        if not self.future.done():
            self.future.set_result(signer)


class SignerPool:
    """Signers shared by all requests of a process, borrowed for one signature at a time."""

    def __init__(
        self,
        signers: Sequence[Signer],
        *,
        acquire_timeout: float = 1.0,
        retry_after: float = 1.0,
        observer: WaitObserver | None = None,
    ) -> None:
        if not signers:
            raise ConfigError("a signer pool needs at least one signer", code="signer_pool_empty")
        if acquire_timeout < 0:
            raise ConfigError("the acquire timeout cannot be negative", code="signer_pool_timeout")
        self._free: deque[Signer] = deque(signers)
        self._waiters: deque[_Waiter] = deque()
        self._lock = threading.Lock()
        self._size = len(signers)
        self.acquire_timeout = acquire_timeout
        self.retry_after = retry_after
        self._observer = observer
        first = signers[0]
        self.alg, self.kid = first.alg, first.kid

    @property
    def size(self) -> int:
        return self._size

    @property
    def in_use(self) -> int:
        with self._lock:
            return self._size - len(self._free)

    @property
    def waiting(self) -> int:
        with self._lock:
            return len(self._waiters)

    def _take(self) -> Signer | None:
        """A free signer when one is free and nobody queues before us (the fast path)."""
        with self._lock:
            if self._free and not self._waiters:
                return self._free.popleft()
            return None

    def try_acquire(self) -> Signer | None:
        """Borrow a signer without waiting: one when a slot is free and nobody queues.

        The caller must hand it back with :meth:`release` (in a ``finally``). This is the
        fast path of :meth:`acquire` without its context-manager frame (~1 µs less per
        signature); when it returns None, use :meth:`acquire` / :meth:`acquire_async`.
        """
        with self._lock:
            if self._free and not self._waiters:
                signer = self._free.popleft()
            else:
                return None
        if self._observer is not None:
            self._observer(0.0, True)
        return signer

    def release(self, signer: Signer) -> None:
        """Give back a signer from :meth:`try_acquire` (the next waiter, if any, gets it)."""
        self._release(signer)

    def _take_or_enqueue(self, waiter: _Waiter) -> Signer | None:
        with self._lock:
            if self._free and not self._waiters:
                return self._free.popleft()
            self._waiters.append(waiter)
            return None

    def _release(self, signer: Signer) -> None:
        with self._lock:
            if self._waiters:
                self._waiters.popleft().hand_over(signer)
            else:
                self._free.append(signer)

    def _abandon(self, waiter: _Waiter) -> bool:
        """Stop waiting; True when the waiter was still queued (no slot handed to it)."""
        with self._lock:
            try:
                self._waiters.remove(waiter)
            except ValueError:
                return False
            return True

    def _unavailable(self, waited: float) -> SignerUnavailable:
        return SignerUnavailable(
            f"all {self._size} signer slots stayed busy for {waited:.3f} s",
            retry_after=self.retry_after,
            pool_size=self._size,
        )

    def _observe(self, started: float, obtained: bool) -> None:
        if self._observer is not None:
            self._observer(time.perf_counter() - started, obtained)

    def _wait_for_slot(self, limit: float, started: float) -> Signer:
        """Queue behind the current waiters (a thread's slow path)."""
        waiter = _Waiter(event=threading.Event())
        signer = self._take_or_enqueue(waiter)
        if signer is None:
            assert waiter.event is not None
            if not waiter.event.wait(limit) and self._abandon(waiter):
                self._observe(started, obtained=False)
                raise self._unavailable(limit)
            signer = waiter.signer
            assert signer is not None
        return signer

    @contextmanager
    def acquire(self, timeout: float | None = None) -> Iterator[Signer]:
        """Borrow a signer from a thread, waiting at most ``timeout`` seconds."""
        started = time.perf_counter()
        signer = self._take()
        if signer is None:
            limit = self.acquire_timeout if timeout is None else timeout
            signer = self._wait_for_slot(limit, started)
        self._observe(started, obtained=True)
        try:
            yield signer
        finally:
            self._release(signer)

    @asynccontextmanager
    async def acquire_async(self, timeout: float | None = None) -> AsyncIterator[Signer]:
        """Borrow a signer from a coroutine without blocking the event loop."""
        started = time.perf_counter()
        limit = self.acquire_timeout if timeout is None else timeout
        signer = self._take()
        waiter = _Waiter()
        if signer is None:
            loop = asyncio.get_running_loop()
            waiter = _Waiter(future=loop.create_future(), loop=loop)
            signer = self._take_or_enqueue(waiter)
        if signer is None:
            assert waiter.future is not None
            try:
                signer = await asyncio.wait_for(asyncio.shield(waiter.future), limit)
            except (TimeoutError, asyncio.CancelledError) as exc:
                if self._abandon(waiter):
                    self._observe(started, obtained=False)
                    if isinstance(exc, asyncio.CancelledError):
                        raise
                    raise self._unavailable(limit) from None
                # The slot was handed over (under the lock) while we gave up: take it, or
                # give it back. Never await here: a second cancellation would lose the slot.
                signer = waiter.signer
                assert signer is not None
                if isinstance(exc, asyncio.CancelledError):
                    self._release(signer)
                    raise
        self._observe(started, obtained=True)
        try:
            yield signer
        finally:
            self._release(signer)

    def sign(self, data: bytes, timeout: float | None = None) -> tuple[bytes, Signer]:
        """Borrow a signer from a thread, sign ``data`` and return (signature, signer)."""
        with self.acquire(timeout) as signer:
            return signer.sign(data), signer
