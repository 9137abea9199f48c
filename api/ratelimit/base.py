"""What every limiter answers (:class:`Decision`) and the interface they share (:class:`Limiter`).

All limiters implement the GCRA (generic cell rate algorithm) with a cost: a hit of cost
``n`` is allowed iff all ``n`` cells fit in the bucket now (a batch of N certificates spends
N); a denied hit spends nothing. A hit whose cost exceeds the burst can never be allowed;
it is denied with ``impossible=True`` (the API answers it with a message such as "batch
larger than your burst" rather than a Retry-After that would never help).

Keys name the subject as ``"<kind>:<subject>"`` (``"lab:42"``, ``"global"``,
``"verify:203.0.113.9"``); :func:`key_kind` takes the kind for metrics.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from api.ratelimit.rate import Rate
from signing.errors import ConfigError

__all__ = ["Decision", "Limiter", "check_cost", "decision_from_us", "key_kind"]


@dataclass(frozen=True, slots=True)
class Decision:
    """The answer to one hit.

    ``limit`` is the burst (the most cells ever available at once), ``remaining`` the cells
    still available right after this decision, ``retry_after`` the seconds until this same
    hit would be allowed (0 when allowed), ``reset_after`` the seconds until the bucket is
    full again. ``policy`` is the ``RateLimit-Policy`` value of the rate applied.
    ``impossible`` marks a cost larger than the burst: no wait makes it fit.
    """

    allowed: bool
    limit: int
    remaining: int
    retry_after: float
    reset_after: float
    policy: str = ""
    impossible: bool = False

    def headers(self) -> dict[str, str]:
        """The response headers: ``RateLimit-Limit``, ``-Remaining``, ``-Reset`` (whole
        seconds, rounded up), ``RateLimit-Policy``, and ``Retry-After`` (whole seconds,
        rounded up, at least 1) when denied and a retry can succeed."""
        headers = {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(math.ceil(self.reset_after)),
        }
        if self.policy:
            headers["RateLimit-Policy"] = self.policy
        if not self.allowed and not self.impossible:
            headers["Retry-After"] = str(max(1, math.ceil(self.retry_after)))
        return headers


@runtime_checkable
class Limiter(Protocol):
    """A GCRA rate limiter: one decision per call, safe to share between tasks."""

    async def hit(self, key: str, rate: Rate, cost: int = 1) -> Decision:
        """Spend ``cost`` cells of ``key``'s bucket under ``rate`` if they all fit now."""
        ...

    async def healthy(self) -> bool:
        """Whether the limiter's store answers (for readiness checks)."""
        ...

    async def close(self) -> None:
        """Release connections; the limiter must not be used afterwards."""
        ...


def key_kind(key: str) -> str:
    """The subject kind of a key: the part before the first ``:`` (``"lab:42"`` → ``"lab"``)."""
    return key.partition(":")[0]


def check_cost(cost: int) -> None:
    """Refuse a cost below one cell (raises :class:`ConfigError`, ``rate_cost_invalid``)."""
    if isinstance(cost, bool) or not isinstance(cost, int) or cost < 1:
        raise ConfigError(f"a hit costs at least one cell, got {cost!r}", code="rate_cost_invalid")


def decision_from_us(
    verdict: int, remaining: int, retry_after_us: int, reset_after_us: int, rate: Rate
) -> Decision:
    """Build a :class:`Decision` from the GCRA's integer answer.

    ``verdict`` is 1 (allowed), 0 (denied) or -1 (impossible: cost above the burst); the
    durations are microseconds.
    """
    return Decision(  # positional: this runs at every hit
        verdict == 1,
        rate.burst,
        remaining if remaining > 0 else 0,
        retry_after_us / 1_000_000 if verdict == 0 else 0.0,
        (reset_after_us if reset_after_us > 0 else 0) / 1_000_000,
        rate.policy,
        verdict == -1,
    )
