"""The reference GCRA model for the rate-limit tests (the real ``redis-server`` fixtures,
``redis_server`` and ``own_redis``, live in ``tests/api/conftest.py`` and are inherited).

:class:`GcraModel` is the textbook virtual-scheduling GCRA (TAT and tolerance τ) with a
cost, written independently of ``api.ratelimit.memory.gcra``; both limiters must give the
same answers as this model.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

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
