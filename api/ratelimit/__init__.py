"""Rate limiting for dcc-service: the GCRA, in process or shared through Redis.

Build one limiter per failure policy with :func:`api.ratelimit.factory.build_limiter` and
ask it ``await limiter.hit("lab:42", rate, cost=n)``; answer 429 with ``decision.headers()``
when ``not decision.allowed`` (422 when ``decision.impossible``), and 503 + ``Retry-After``
on :class:`LimiterUnavailable`.

This front holds what needs no Redis client; the Redis limiter, the resilient wrapper and
the factory are imported from their modules (:mod:`~api.ratelimit.redis_gcra`,
:mod:`~api.ratelimit.resilient`, :mod:`~api.ratelimit.factory`), so that settings and the
in-process limiter do not load redis.
"""

from __future__ import annotations

from api.ratelimit.base import Decision, Limiter, key_kind
from api.ratelimit.errors import LimiterUnavailable
from api.ratelimit.memory import InMemoryLimiter
from api.ratelimit.rate import Rate

__all__ = [
    "Decision",
    "InMemoryLimiter",
    "Limiter",
    "LimiterUnavailable",
    "Rate",
    "key_kind",
]
