"""The GCRA in pure Python, one integer TAT per key: the embedded default and the fallback.

:func:`gcra` is the whole algorithm on whole microseconds; the Redis script
(:mod:`api.ratelimit.redis_gcra`) performs the same arithmetic, so both give identical
answers for identical inputs. :class:`InMemoryLimiter` keeps the theoretical arrival time
(TAT) of every key in a dict. A decision contains no ``await``, so it is atomic under
asyncio. Memory is bounded by ``max_keys``: when a new key would exceed it, keys whose
bucket is full again (TAT passed, the same as absent) are dropped first; if that is not
enough, the keys closest to full are dropped, which forgives them at most a little backlog.
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Callable

from api.ratelimit.base import Decision, check_cost, decision_from_us
from api.ratelimit.rate import Rate
from signing.errors import ConfigError

__all__ = ["GcraAnswer", "InMemoryLimiter", "gcra"]

GcraAnswer = tuple[int, int, int, int]
"""(verdict 1/0/-1, remaining cells, retry_after µs, reset_after µs), as the Lua returns it."""

_EVICT_TO = 0.9
"""After a forced eviction the store holds at most this share of ``max_keys``."""


def gcra(tat: int | None, now: int, rate: Rate, cost: int) -> tuple[int | None, GcraAnswer]:
    """One GCRA decision at ``now`` (µs) for a key whose stored TAT is ``tat`` (µs or None).

    Returns the TAT to store (None: leave the key as it is) and the answer. The hit is
    allowed iff the backlog after adding ``cost`` intervals fits within the bucket depth
    (``burst`` intervals), i.e. all ``cost`` cells conform.
    """
    interval = rate.emission_interval_us
    depth = rate.depth_us
    start = now if tat is None or tat < now else tat
    backlog = start - now
    if cost > rate.burst:
        return None, (-1, (depth - backlog) // interval, 0, backlog)
    new_backlog = backlog + cost * interval
    if new_backlog > depth:
        return None, (0, (depth - backlog) // interval, new_backlog - depth, backlog)
    return start + cost * interval, (1, (depth - new_backlog) // interval, 0, new_backlog)


class InMemoryLimiter:
    """GCRA limiter local to this process (one float-free integer TAT per key)."""

    def __init__(
        self, clock: Callable[[], float] = time.monotonic, max_keys: int = 100_000
    ) -> None:
        """``clock`` returns seconds (monotonic); ``max_keys`` bounds the keys held."""
        if max_keys < 1:
            raise ConfigError(f"max_keys must be at least 1, got {max_keys}", code="rate_invalid")
        self._clock = clock
        self._max_keys = max_keys
        self._tats: dict[str, int] = {}

    def __len__(self) -> int:
        """How many keys the limiter currently holds."""
        return len(self._tats)

    async def hit(self, key: str, rate: Rate, cost: int = 1) -> Decision:
        """Spend ``cost`` cells of ``key`` under ``rate`` if they all fit now."""
        return self.decide(key, rate, cost)

    def decide(self, key: str, rate: Rate, cost: int = 1) -> Decision:
        """The synchronous form of :meth:`hit` (no I/O; usable from threads under a lock)."""
        check_cost(cost)
        now = round(self._clock() * 1_000_000)
        new_tat, answer = gcra(self._tats.get(key), now, rate, cost)
        if new_tat is not None:
            if key not in self._tats and len(self._tats) >= self._max_keys:
                self._evict(now)
            self._tats[key] = new_tat
        return decision_from_us(*answer, rate)

    async def healthy(self) -> bool:
        """Always true: the store is this process's memory."""
        return True

    async def close(self) -> None:
        """Forget every key."""
        self._tats.clear()

    def _evict(self, now: int) -> None:
        """Drop full buckets; if still too many keys, drop the ones closest to full."""
        self._tats = {k: t for k, t in self._tats.items() if t > now}
        if len(self._tats) < self._max_keys:
            return
        excess = len(self._tats) - int(self._max_keys * _EVICT_TO)
        for key in heapq.nsmallest(excess, self._tats, key=self._tats.__getitem__):
            del self._tats[key]
