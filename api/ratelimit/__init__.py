"""Rate limiting for dcc-service: the GCRA, in process or shared through Redis.

Build one limiter per failure policy with :func:`build_limiter` and ask it
``await limiter.hit("lab:42", rate, cost=n)``; answer 429 with ``decision.headers()`` when
``not decision.allowed`` (422 when ``decision.impossible``), and 503 + ``Retry-After`` on
:class:`LimiterUnavailable`.
"""

from __future__ import annotations

from api.ratelimit.base import Decision, Limiter, key_kind
from api.ratelimit.errors import LimiterUnavailable
from api.ratelimit.factory import build_limiter, create_redis_client
from api.ratelimit.memory import InMemoryLimiter
from api.ratelimit.rate import Rate
from api.ratelimit.redis_gcra import RedisLimiter
from api.ratelimit.resilient import (
    DecisionObserver,
    EventObserver,
    FailurePolicy,
    LimiterState,
    ResilientLimiter,
)

__all__ = [
    "Decision",
    "DecisionObserver",
    "EventObserver",
    "FailurePolicy",
    "InMemoryLimiter",
    "Limiter",
    "LimiterState",
    "LimiterUnavailable",
    "Rate",
    "RedisLimiter",
    "ResilientLimiter",
    "build_limiter",
    "create_redis_client",
    "key_kind",
]
