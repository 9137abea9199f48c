"""SignerPool: bounded capacity, bounded waiting, FIFO hand-over, and no lost slots.

Real LocalSigners throughout. No wall clock is read: steps are ordered by the pool's state
(``pool.waiting``) and by events, and where a test checks a wait, :class:`PoolClock` stands
in for the pool's clock and records the limit of each wait, so the seconds the pool reports
are exact and "waited the whole timeout" is the limit it waited with, not a measured time.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import threading
import time
from collections.abc import Awaitable, Callable
from types import ModuleType
from typing import Any, TypeVar

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

import signing.pool
from signing.algorithms import ES256, verify_raw
from signing.errors import ConfigError, SignerUnavailable
from signing.pool import SignerPool
from signing.signer import LocalSigner, Signer
from tests.waiting import async_wait_until, wait_until

T = TypeVar("T")


class Observer:
    """Records every (seconds waited, obtained) the pool reports."""

    def __init__(self) -> None:
        self.calls: list[tuple[float, bool]] = []
        self._lock = threading.Lock()

    def __call__(self, seconds: float, obtained: bool) -> None:
        with self._lock:
            self.calls.append((seconds, obtained))


def make_pool(
    key: ec.EllipticCurvePrivateKey,
    size: int,
    *,
    timeout: float = 1.0,
    retry_after: float = 2.5,
    observer: Observer | None = None,
) -> SignerPool:
    signers = [LocalSigner(key, bytes([i]) * 8) for i in range(size)]
    return SignerPool(signers, acquire_timeout=timeout, retry_after=retry_after, observer=observer)


def waiting(pool: SignerPool, count: int) -> Callable[[], bool]:
    """A condition: exactly ``count`` callers are queued for a slot."""
    return lambda: pool.waiting == count


class _Patched:
    """A module seen through a few replaced names (every other name is the module's)."""

    def __init__(self, module: ModuleType, **replaced: object) -> None:
        self._module = module
        self.__dict__.update(replaced)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._module, name)


class PoolClock:
    """The pool's clock, moved by the test, and a record of the limit of each wait.

    ``perf_counter`` (what the pool measures waits with) reads :attr:`now`, which moves
    only by :meth:`advance` or when a wait times out. A thread waits on an ``Event`` and a
    coroutine in ``asyncio.wait_for``: both still wait for real, their limit is appended to
    :attr:`limits`, and a wait that times out moves the clock on by exactly its limit.
    """

    def __init__(self) -> None:
        self.now = 0.0
        self.limits: list[float | None] = []
        self._lock = threading.Lock()

    def perf_counter(self) -> float:
        with self._lock:
            return self.now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.now += seconds

    def event(self) -> threading.Event:
        return _ClockedEvent(self)

    async def wait_for(self, awaitable: Awaitable[T], timeout: float) -> T:
        self.limits.append(timeout)
        try:
            return await asyncio.wait_for(awaitable, timeout)
        except TimeoutError:
            self.advance(timeout)
            raise


class _ClockedEvent(threading.Event):
    """A thread's wait for a slot, on a :class:`PoolClock`."""

    def __init__(self, clock: PoolClock) -> None:
        super().__init__()
        self._clock = clock

    def wait(self, timeout: float | None = None) -> bool:
        self._clock.limits.append(timeout)
        woken = super().wait(timeout)
        if not woken and timeout is not None:
            self._clock.advance(timeout)
        return woken


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> PoolClock:
    """A :class:`PoolClock` in place of the clock and the waits of ``signing.pool``."""
    pool_clock = PoolClock()
    monkeypatch.setattr(signing.pool, "time", _Patched(time, perf_counter=pool_clock.perf_counter))
    monkeypatch.setattr(signing.pool, "threading", _Patched(threading, Event=pool_clock.event))
    monkeypatch.setattr(signing.pool, "asyncio", _Patched(asyncio, wait_for=pool_clock.wait_for))
    return pool_clock


def test_configuration_is_checked(p256_key: ec.EllipticCurvePrivateKey) -> None:
    with pytest.raises(ConfigError):
        SignerPool([])
    with pytest.raises(ConfigError):
        make_pool(p256_key, 1, timeout=-0.1)
    pool = make_pool(p256_key, 3)
    assert (pool.size, pool.in_use, pool.waiting) == (3, 0, 0)
    assert pool.alg == ES256
    assert pool.kid == b"\x00" * 8


def test_n_threads_get_a_slot_and_the_next_gets_signer_unavailable_after_the_timeout(
    p256_key: ec.EllipticCurvePrivateKey, clock: PoolClock
) -> None:
    pool = make_pool(p256_key, 3)
    with contextlib.ExitStack() as stack:
        held = [stack.enter_context(pool.acquire(timeout=0)) for _ in range(3)]
        assert len({id(signer) for signer in held}) == 3
        assert pool.in_use == 3
        assert clock.limits == []  # free slots are taken without waiting
        with pytest.raises(SignerUnavailable) as caught, pool.acquire(timeout=0.05):
            pass
        assert clock.limits == [0.05]  # one wait, for the whole timeout, then refused
        assert str(caught.value) == "all 3 signer slots stayed busy for 0.050 s"
        assert caught.value.retry_after == 2.5
        assert caught.value.code == "signer_unavailable"
        assert caught.value.context["pool_size"] == 3
        assert pool.in_use == 3
        assert pool.waiting == 0
    assert pool.in_use == 0


def test_the_pool_timeout_is_the_default(
    p256_key: ec.EllipticCurvePrivateKey, clock: PoolClock
) -> None:
    pool = make_pool(p256_key, 1, timeout=0.05)
    with pool.acquire():
        with pytest.raises(SignerUnavailable) as caught, pool.acquire():
            pass
        assert clock.limits == [0.05]
        assert str(caught.value) == "all 1 signer slots stayed busy for 0.050 s"


async def test_n_coroutines_get_a_slot_and_the_next_gets_signer_unavailable_after_the_timeout(
    p256_key: ec.EllipticCurvePrivateKey, clock: PoolClock
) -> None:
    pool = make_pool(p256_key, 2)
    async with contextlib.AsyncExitStack() as stack:
        for _ in range(2):
            await stack.enter_async_context(pool.acquire_async(timeout=0))
        assert pool.in_use == 2
        assert clock.limits == []
        with pytest.raises(SignerUnavailable) as caught:
            async with pool.acquire_async(timeout=0.05):
                pass
        assert clock.limits == [0.05]  # one wait, for the whole timeout, then refused
        assert str(caught.value) == "all 2 signer slots stayed busy for 0.050 s"
        assert caught.value.retry_after == 2.5
        assert pool.waiting == 0
    assert pool.in_use == 0


async def test_an_async_waiter_does_not_block_the_event_loop(
    p256_key: ec.EllipticCurvePrivateKey,
) -> None:
    """While a coroutine is queued for a slot, the other tasks of its loop run (this test's
    polling, then another task from start to end); a waiter that blocked the loop would
    never be seen queued."""
    pool = make_pool(p256_key, 1)
    async with pool.acquire_async():
        waiter = asyncio.create_task(_hold_async(pool, timeout=5))
        await async_wait_until(waiting(pool, 1), what="a coroutine queued for the slot")
        other = await asyncio.create_task(asyncio.sleep(0, result="another task ran"))
        assert other == "another task ran"
        assert not waiter.done()
    assert await waiter is not None  # and it got the slot once the holder let go
    assert pool.in_use == 0


def test_threads_are_served_first_come_first_served(p256_key: ec.EllipticCurvePrivateKey) -> None:
    pool = make_pool(p256_key, 1)
    order: list[int] = []

    def worker(index: int) -> None:
        with pool.acquire(timeout=5):
            order.append(index)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(5)]
    with pool.acquire():
        for index, thread in enumerate(threads):
            thread.start()
            wait_until(waiting(pool, index + 1), what=f"{index + 1} threads queued")
    for thread in threads:
        thread.join(5)
    assert order == [0, 1, 2, 3, 4]
    assert pool.in_use == 0


async def test_coroutines_are_served_first_come_first_served(
    p256_key: ec.EllipticCurvePrivateKey,
) -> None:
    pool = make_pool(p256_key, 1)
    order: list[int] = []

    async def worker(index: int) -> None:
        async with pool.acquire_async(timeout=5):
            order.append(index)
            await asyncio.sleep(0)

    async with pool.acquire_async():
        tasks = []
        for index in range(5):
            tasks.append(asyncio.create_task(worker(index)))
            await async_wait_until(waiting(pool, index + 1), what=f"{index + 1} coroutines queued")
    await asyncio.gather(*tasks)
    assert order == [0, 1, 2, 3, 4]
    assert pool.in_use == 0


async def test_a_slot_released_by_a_thread_reaches_a_waiting_coroutine(
    p256_key: ec.EllipticCurvePrivateKey,
) -> None:
    pool = make_pool(p256_key, 1)
    acquired = threading.Event()
    release = threading.Event()

    def holder() -> None:
        with pool.acquire():
            acquired.set()
            release.wait(5)

    thread = threading.Thread(target=holder)
    thread.start()
    acquired.wait(5)
    waiter = asyncio.create_task(_hold_async(pool, timeout=5))
    await async_wait_until(waiting(pool, 1), what="a coroutine queued for the slot")
    release.set()
    assert await waiter is not None
    thread.join(5)
    assert pool.in_use == 0


async def _hold_async(pool: SignerPool, *, timeout: float, hold: float = 0) -> Signer | None:
    try:
        async with pool.acquire_async(timeout=timeout) as signer:
            await asyncio.sleep(hold)
            return signer
    except SignerUnavailable:
        return None


async def test_no_slot_is_lost_under_concurrent_acquires_with_random_timeouts(
    p256_key: ec.EllipticCurvePrivateKey,
) -> None:
    """Timeouts racing hand-overs, from coroutines and threads: every slot comes back."""
    pool = make_pool(p256_key, 3)
    rng = random.Random(20210708)
    outcomes = {"obtained": 0, "refused": 0}
    lock = threading.Lock()

    def count(obtained: bool) -> None:
        with lock:
            outcomes["obtained" if obtained else "refused"] += 1

    def thread_worker(seed: int) -> None:
        local = random.Random(seed)
        for _ in range(60):
            try:
                with pool.acquire(timeout=local.uniform(0, 0.002)) as signer:
                    signer.sign(b"x")
                    time.sleep(local.choice((0, 0, 0.0005)))
                count(True)
            except SignerUnavailable:
                count(False)

    async def coroutine_worker() -> None:
        signer = await _hold_async(
            pool, timeout=rng.uniform(0, 0.003), hold=rng.choice((0, 0, 0.001))
        )
        count(signer is not None)

    threads = [threading.Thread(target=thread_worker, args=(seed,)) for seed in range(4)]
    for thread in threads:
        thread.start()
    await asyncio.gather(*(coroutine_worker() for _ in range(400)))
    for thread in threads:
        thread.join(30)
        assert not thread.is_alive(), "a thread is stuck waiting for a slot"
    assert pool.in_use == 0
    assert pool.waiting == 0
    assert outcomes["obtained"] + outcomes["refused"] == 400 + 4 * 60
    assert outcomes["obtained"] > 0
    assert outcomes["refused"] > 0  # the race was real
    with contextlib.ExitStack() as stack:  # all three slots are really free
        assert len({id(stack.enter_context(pool.acquire(timeout=0))) for _ in range(3)}) == 3


async def test_cancelling_an_async_waiter_does_not_leak_a_slot(
    p256_key: ec.EllipticCurvePrivateKey,
) -> None:
    pool = make_pool(p256_key, 1)
    async with pool.acquire_async():
        waiter = asyncio.create_task(_hold_async(pool, timeout=5))
        await async_wait_until(waiting(pool, 1), what="a coroutine queued for the slot")
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
        assert pool.waiting == 0
    assert pool.in_use == 0
    async with pool.acquire_async(timeout=0):
        pass


async def test_a_cancel_racing_the_hand_over_does_not_leak_a_slot(
    p256_key: ec.EllipticCurvePrivateKey,
) -> None:
    """Cancelled and handed the slot in the same loop step: the slot goes back."""
    pool = make_pool(p256_key, 1)
    holder = pool.acquire_async()
    await holder.__aenter__()
    waiter = asyncio.create_task(_hold_async(pool, timeout=5))
    await async_wait_until(waiting(pool, 1), what="a coroutine queued for the slot")
    waiter.cancel()
    await holder.__aexit__(None, None, None)  # hands the slot to the cancelled waiter
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert pool.in_use == 0
    async with pool.acquire_async(timeout=0):
        pass


async def test_a_waiter_cancelled_twice_around_the_hand_over_does_not_leak_a_slot(
    p256_key: ec.EllipticCurvePrivateKey,
) -> None:
    """cancel, yield, yield, hand over, yield, cancel: deterministic on the asyncio loop.

    After the first cancel the waiter gives up, but the holder hands it the slot before it
    has left the queue; it then awaits its future for the signer, and the second cancel
    (a client disconnect, a TaskGroup) lands on that await. The same loss happens with one
    cancel when the slot is handed over from a thread (call_soon_threadsafe) while the
    waiter's timeout expires.
    """
    pool = make_pool(p256_key, 1)
    holder = pool.acquire_async()
    await holder.__aenter__()
    waiter = asyncio.create_task(_hold_async(pool, timeout=5))
    await asyncio.sleep(0)
    assert pool.waiting == 1
    waiter.cancel()
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    await holder.__aexit__(None, None, None)
    await asyncio.sleep(0)
    waiter.cancel()
    await asyncio.gather(waiter, return_exceptions=True)
    assert pool.in_use == 0


def test_the_observer_sees_every_acquire(
    p256_key: ec.EllipticCurvePrivateKey, clock: PoolClock
) -> None:
    """The observer gets the seconds on the pool's clock from the call to the slot (or to
    the refusal), and whether a slot was obtained."""
    observer = Observer()
    pool = make_pool(p256_key, 1, observer=observer)
    with pool.acquire():
        pass
    assert observer.calls == [(0.0, True)]  # a free slot: no wait at all

    with pool.acquire(), pytest.raises(SignerUnavailable), pool.acquire(timeout=0.03):
        pass
    assert observer.calls[1] == (0.0, True)
    refused_wait, refused_obtained = observer.calls[2]
    assert refused_obtained is False
    assert refused_wait == pytest.approx(0.03)  # the whole timeout, then refused

    gate = threading.Event()

    def hold_then_release() -> None:
        with pool.acquire():
            gate.set()
            wait_until(waiting(pool, 1), what="the main thread queued for the slot")
            clock.advance(0.02)  # the slot stays busy 0.02 s longer, then is handed over

    thread = threading.Thread(target=hold_then_release)
    thread.start()
    assert gate.wait(5)
    with pool.acquire(timeout=5):
        pass
    thread.join(5)
    assert observer.calls[3] == (0.0, True)  # the holder's
    waited, obtained = observer.calls[4]
    assert obtained is True
    assert waited == pytest.approx(0.02)
    assert len(observer.calls) == 5


async def test_the_observer_sees_async_acquires(
    p256_key: ec.EllipticCurvePrivateKey, clock: PoolClock
) -> None:
    observer = Observer()
    pool = make_pool(p256_key, 1, observer=observer)
    async with pool.acquire_async():
        with pytest.raises(SignerUnavailable):
            async with pool.acquire_async(timeout=0.03):
                pass
    assert [obtained for _, obtained in observer.calls] == [True, False]
    assert observer.calls[0][0] == 0.0
    assert observer.calls[1][0] == pytest.approx(0.03)
    assert clock.limits == [0.03]


def test_sign_borrows_a_signer_and_gives_it_back(p256_key: ec.EllipticCurvePrivateKey) -> None:
    pool = make_pool(p256_key, 2)
    signature, signer = pool.sign(b"data")
    assert signer.kid in (b"\x00" * 8, b"\x01" * 8)
    verify_raw(p256_key.public_key(), ES256, b"data", signature)
    assert pool.in_use == 0


def test_try_acquire_takes_a_free_slot_without_waiting(
    p256_key: ec.EllipticCurvePrivateKey,
) -> None:
    observer = Observer()
    pool = make_pool(p256_key, 2, observer=observer)
    first = pool.try_acquire()
    second = pool.try_acquire()
    assert first is not None
    assert second is not None
    assert first is not second
    assert pool.in_use == 2
    assert pool.try_acquire() is None  # all busy: no waiting, no observation
    assert observer.calls == [(0.0, True), (0.0, True)]
    pool.release(first)
    pool.release(second)
    assert pool.in_use == 0
    with pool.acquire() as signer:
        assert signer is first  # FIFO: the slot released first is handed out first


def test_try_acquire_does_not_jump_the_queue(p256_key: ec.EllipticCurvePrivateKey) -> None:
    """A free slot goes to a queued waiter, never to try_acquire."""
    pool = make_pool(p256_key, 1)
    held = pool.try_acquire()
    assert held is not None
    got: list[Signer] = []

    def wait_for_slot() -> None:
        with pool.acquire(timeout=5) as signer:
            got.append(signer)

    thread = threading.Thread(target=wait_for_slot)
    thread.start()
    wait_until(waiting(pool, 1), what="a thread queued for the slot")
    assert pool.try_acquire() is None
    pool.release(held)  # handed straight to the waiting thread
    thread.join(5)
    assert got == [held]
    assert pool.in_use == 0
