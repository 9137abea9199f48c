"""Build the limiter the settings ask for: in-process without a Redis URL, else resilient Redis.

:func:`create_redis_client` makes the one client (one connection pool) a process uses for
quotas, tuned so a dead Redis costs milliseconds: short connect and read timeouts, no
backoff, and a single immediate retry only on connection errors (a pooled connection that a
Redis restart broke is replaced at once; a timeout is never retried).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from api.ratelimit.base import Limiter
from api.ratelimit.memory import InMemoryLimiter
from api.ratelimit.redis_gcra import RedisLimiter
from api.ratelimit.resilient import (
    DecisionObserver,
    EventObserver,
    FailurePolicy,
    ResilientLimiter,
)
from api.ratelimit.topology import RedisClient, connect

__all__ = ["build_limiter", "create_redis_client"]

_LOGGER = logging.getLogger("api.ratelimit.resilient")


def create_redis_client(
    url: str,
    *,
    socket_timeout: float = 0.1,
    connect_timeout: float = 0.1,
    health_check_interval: int = 30,
    max_connections: int | None = None,
) -> RedisClient:
    """An asyncio Redis client for ``url``: ``redis://``, ``rediss://``, ``unix://``,
    ``redis+sentinel://`` or ``redis+cluster://`` (:mod:`api.ratelimit.topology`).

    Create one per process and share it; it must be used from the event loop it first
    ran on. Options in a single server's URL query string take precedence over these
    arguments. Raises ``ValueError`` for a URL it cannot use.
    """
    return connect(
        url,
        socket_timeout=socket_timeout,
        connect_timeout=connect_timeout,
        health_check_interval=health_check_interval,
        max_connections=max_connections,
    )


def build_limiter(
    redis_url: str | None,
    *,
    policy: FailurePolicy,
    replicas: int,
    degrade_for: float = 300.0,
    breaker_threshold: int = 3,
    breaker_reset: float = 2.0,
    socket_timeout: float = 0.1,
    prefix: str = "dcc:rl:",
    max_keys: int = 100_000,
    clock: Callable[[], float] = time.monotonic,
    logger: logging.Logger = _LOGGER,
    on_decision: DecisionObserver | None = None,
    on_event: EventObserver | None = None,
    client: RedisClient | None = None,
) -> Limiter:
    """The limiter for one policy: :class:`InMemoryLimiter` when ``redis_url`` is None,
    else a :class:`ResilientLimiter` over Redis whose ``degrade`` share is 1/``replicas``.

    Call it once per policy (e.g. ``degrade`` for issuance, ``fail-open`` for verify).
    To share one connection pool between them, pass the same ``client`` (from
    :func:`create_redis_client`) to each: the limiters then leave it open and the caller
    closes it. Without ``client`` the limiter creates and owns one; close the limiter.
    """
    fallback = InMemoryLimiter(clock=clock, max_keys=max_keys)
    if redis_url is None:
        return fallback
    owns_client = client is None
    if client is None:
        client = create_redis_client(
            redis_url, socket_timeout=socket_timeout, connect_timeout=socket_timeout
        )
    return ResilientLimiter(
        RedisLimiter(client, prefix=prefix, owns_client=owns_client),
        fallback,
        policy=policy,
        degrade_for=degrade_for,
        breaker_threshold=breaker_threshold,
        breaker_reset=breaker_reset,
        fallback_divisor=replicas,
        clock=clock,
        logger=logger,
        on_decision=on_decision,
        on_event=on_event,
    )
