"""build_limiter and create_redis_client: the right limiter per setting, fast failure."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import pytest
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError

from api.ratelimit.factory import build_limiter, create_redis_client
from api.ratelimit.memory import InMemoryLimiter
from api.ratelimit.rate import Rate
from api.ratelimit.resilient import LimiterState, ResilientLimiter

if TYPE_CHECKING:
    from conftest import ConnectAttempts, RedisServer


async def test_without_a_url_the_limiter_is_in_process() -> None:
    """No DCC_REDIS_URL: the embedded in-memory limiter."""
    limiter = build_limiter(None, policy="degrade", replicas=3)
    assert isinstance(limiter, InMemoryLimiter)
    assert (await limiter.hit("lab:1", Rate.parse("1/second"))).allowed


async def test_with_a_url_the_limiter_is_resilient_redis(redis_server: RedisServer) -> None:
    """A Redis URL: decisions come from Redis (shared by every limiter on that URL)."""
    prefix = f"factory:{uuid.uuid4().hex}:"
    first = build_limiter(redis_server.url, policy="degrade", replicas=2, prefix=prefix)
    second = build_limiter(redis_server.url, policy="fail-open", replicas=2, prefix=prefix)
    try:
        assert isinstance(first, ResilientLimiter)
        assert first.policy == "degrade"
        rate = Rate.parse("2/minute")
        assert (await first.hit("lab:1", rate)).remaining == 1
        assert (await second.hit("lab:1", rate)).remaining == 0
        assert first.state is LimiterState.OK
        assert await first.healthy()
    finally:
        await first.close()
        await second.close()


async def test_shared_client_survives_closing_a_limiter(redis_server: RedisServer) -> None:
    """Limiters built on one client leave it to the caller to close."""
    client = create_redis_client(redis_server.url, socket_timeout=1.0, connect_timeout=1.0)
    limiter = build_limiter(redis_server.url, policy="degrade", replicas=1, client=client)
    await limiter.close()
    assert await client.ping()
    await client.aclose()


@pytest.mark.parametrize("port", [1])
async def test_client_to_a_dead_port_fails_at_once(
    port: int, connect_attempts: ConnectAttempts
) -> None:
    """Connection refused is reported at once: the connect is refused (no timeout waited
    for) and retried once, without backoff; no long retry loop."""
    client = create_redis_client(f"redis://127.0.0.1:{port}/0")
    attempts = connect_attempts(client)
    with pytest.raises(RedisConnectionError) as caught:
        await client.ping()
    assert isinstance(caught.value.__cause__, ConnectionRefusedError)
    assert len(attempts) == 2
    assert all(isinstance(outcome, ConnectionRefusedError) for outcome in attempts)
    retry = client.connection_pool.connection_kwargs["retry"]
    assert isinstance(retry._backoff, NoBackoff)
    await client.aclose()


async def test_client_timeouts_follow_the_arguments(redis_server: RedisServer) -> None:
    """The pool's connections use the requested socket timeouts and one quick retry."""
    client = create_redis_client(redis_server.url, socket_timeout=0.05, connect_timeout=0.07)
    kwargs = client.connection_pool.connection_kwargs
    assert (kwargs["socket_timeout"], kwargs["socket_connect_timeout"]) == (0.05, 0.07)
    assert kwargs["retry"].get_retries() == 1
    await client.aclose()
