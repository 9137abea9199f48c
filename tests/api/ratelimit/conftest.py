"""The reference GCRA model for the rate-limit tests (the real ``redis-server`` fixtures,
``redis_server`` and ``own_redis``, live in ``tests/api/conftest.py`` and are inherited).

:class:`GcraModel` is the textbook virtual-scheduling GCRA (TAT and tolerance τ) with a
cost, written independently of ``api.ratelimit.memory.gcra``; both limiters must give the
same answers as this model.

``connect_attempts`` records how a Redis client's connection attempts end, so a test can
show a dead Redis is refused at once (refused connections, a bounded number of attempts)
without timing it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
import redis.asyncio as aioredis

from api.ratelimit.rate import Rate


@dataclass
class ModelAnswer:
    """What the model expects of one hit (durations in µs)."""

    allowed: bool
    impossible: bool
    remaining: int
    retry_after_us: int
    reset_after_us: int


class GcraModel:
    """Textbook GCRA for one key: TAT, emission interval T, tolerance τ = (burst - 1)·T.

    A hit of ``cost`` n conforms iff its last cell does: ``max(TAT, t) + (n - 1)·T - t ≤ τ``.
    ``remaining`` is counted cell by cell rather than by formula.
    """

    def __init__(self, rate: Rate) -> None:
        self.burst = rate.burst
        self.interval = rate.emission_interval_us
        self.tau = (rate.burst - 1) * self.interval
        self.tat: int | None = None

    def hit(self, now: int, cost: int) -> ModelAnswer:
        """Apply one hit at ``now`` µs and return the expected answer."""
        tat = now if self.tat is None else max(self.tat, now)
        last_cell = tat + (cost - 1) * self.interval
        impossible = cost > self.burst
        allowed = not impossible and last_cell - now <= self.tau
        if allowed:
            self.tat = tat + cost * self.interval
            tat = self.tat
        remaining = sum(1 for k in range(self.burst) if tat + k * self.interval - now <= self.tau)
        return ModelAnswer(
            allowed=allowed,
            impossible=impossible,
            remaining=remaining,
            retry_after_us=0 if allowed or impossible else last_cell - self.tau - now,
            reset_after_us=tat - now,
        )


@pytest.fixture(scope="session")
def gcra_model() -> type[GcraModel]:
    """The reference model class (a fixture because test modules cannot import conftest)."""
    return GcraModel


ConnectAttempts = Callable[[aioredis.Redis], list[BaseException | None]]


@pytest.fixture(scope="session")
def connect_attempts() -> ConnectAttempts:
    """``connect_attempts(client)``: a list that gets, from now on, the outcome of every
    connection attempt of ``client``'s pool (None: connected, else the error raised)."""

    def spy(client: aioredis.Redis) -> list[BaseException | None]:
        pool = client.connection_pool
        outcomes: list[BaseException | None] = []
        base = pool.connection_class

        class Recorded(base):  # type: ignore[valid-type, misc]
            async def _connect(self) -> None:
                try:
                    await super()._connect()
                except BaseException as exc:
                    outcomes.append(exc)
                    raise
                outcomes.append(None)

        pool.connection_class = Recorded
        return outcomes

    return spy
