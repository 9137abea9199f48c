"""The GCRA in one Lua script on Redis: one key per decision; concurrent ones share a trip.

The script reads the key's theoretical arrival time (TAT, integer microseconds), takes
``now`` from ``redis.call('TIME')`` so every replica shares the server's clock, and writes
the new TAT with a TTL equal to the time until it passes (the key vanishes exactly when the
bucket is full again). It touches only ``KEYS[1]``, so it is Redis-Cluster-safe. The
arithmetic is the one of :func:`api.ratelimit.memory.gcra`; every number stays an integer
below 2**53 (see ``Rate``), so Lua doubles compute it exactly. Arguments and results cross
the Lua boundary as integers; the stored TAT is written with ``%.0f``, never ``tostring``
(which would round to 14 digits). Redis 7 replicates the script's effects (the ``SET``),
so calling ``TIME`` inside it is allowed.

Calls go through a :class:`~api.ratelimit.batching.ScriptBatcher`: concurrent hits share
one round trip (a pipeline of ``EVALSHA``, one per hit, each on its own key, applied in the
order of the calls), and ``NOSCRIPT`` (e.g. after a Redis restart emptied the script cache)
loads the script and sends the affected hits again.

Test hook: :meth:`RedisLimiter.hit_at` passes an explicit ``now`` as a fourth argument so
tests can compare the script with a model under a controlled clock. Production code never
calls it. Under an injected clock the key's TTL (real time) cannot follow the injected
time, so it is kept at least 60 s.
"""

from __future__ import annotations

from typing import Final

from redis.asyncio.cluster import RedisCluster
from redis.exceptions import RedisError

from api.ratelimit.base import Decision, check_cost, decision_from_us
from api.ratelimit.batching import DEFAULT_MAX_BATCH, ScriptBatcher
from api.ratelimit.cluster_batching import ClusterScriptBatcher
from api.ratelimit.rate import Rate
from api.ratelimit.topology import RedisClient, close_client

__all__ = ["GCRA_LUA", "RedisLimiter"]

GCRA_LUA: Final = """
-- GCRA on one key; the same arithmetic as api/ratelimit/memory.py:gcra.
-- KEYS[1] bucket; ARGV[1] emission interval (us); ARGV[2] burst; ARGV[3] cost;
-- ARGV[4] (tests only) explicit now (us) instead of the server clock.
-- Returns {verdict 1 allowed | 0 denied | -1 impossible, remaining, retry_after_us,
-- reset_after_us}.
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local now
local ttl_floor_ms = 1
if ARGV[4] then
  now = tonumber(ARGV[4])
  ttl_floor_ms = 60000
else
  local clock = redis.call('TIME')
  now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
end
local depth = burst * interval
local tat = tonumber(redis.call('GET', KEYS[1]))
if not tat or tat < now then
  tat = now
end
local backlog = tat - now
if cost > burst then
  return {-1, math.floor((depth - backlog) / interval), 0, backlog}
end
local new_backlog = backlog + cost * interval
if new_backlog > depth then
  return {0, math.floor((depth - backlog) / interval), new_backlog - depth, backlog}
end
local ttl_ms = math.max(math.ceil(new_backlog / 1000), ttl_floor_ms)
redis.call('SET', KEYS[1], string.format('%.0f', tat + cost * interval),
  'PX', string.format('%.0f', ttl_ms))
return {1, math.floor((depth - new_backlog) / interval), 0, new_backlog}
"""


class RedisLimiter:
    """GCRA limiter shared by every replica through one Redis, Sentinel master or Cluster."""

    def __init__(
        self,
        client: RedisClient,
        *,
        prefix: str = "dcc:rl:",
        owns_client: bool = True,
        max_batch: int = DEFAULT_MAX_BATCH,
    ) -> None:
        """Use ``client`` (see :func:`api.ratelimit.factory.create_redis_client`); every
        bucket key is ``prefix + key``. :meth:`close` closes the client only if
        ``owns_client`` (pass False when several limiters share one client).
        ``max_batch`` bounds the hits sent in one round trip."""
        self._client = client
        self._prefix = prefix
        self._owns_client = owns_client
        self._batcher = (
            ClusterScriptBatcher(client, GCRA_LUA, max_batch=max_batch)
            if isinstance(client, RedisCluster)
            else ScriptBatcher(client, GCRA_LUA, max_batch=max_batch)
        )

    @property
    def prefix(self) -> str:
        """The prefix of every Redis key this limiter writes."""
        return self._prefix

    async def hit(self, key: str, rate: Rate, cost: int = 1) -> Decision:
        """Spend ``cost`` cells of ``key`` under ``rate`` if they all fit now (Redis TIME).

        Raises the client's ``RedisError`` (connection, timeout, ...) when Redis fails;
        :class:`api.ratelimit.resilient.ResilientLimiter` decides what that means.
        """
        return await self._run(key, rate, cost, ())

    async def hit_at(self, key: str, rate: Rate, cost: int = 1, *, now_us: int) -> Decision:
        """Test hook: decide as if the Redis clock read ``now_us``. Never used in production."""
        return await self._run(key, rate, cost, (now_us,))

    async def healthy(self) -> bool:
        """Whether Redis answers ``PING`` within the client's socket timeout."""
        try:
            return bool(await self._client.ping())
        except (RedisError, OSError):
            return False

    async def close(self) -> None:
        """Stop batching (pending hits are cancelled) and close the client and its
        connection pool, if this limiter owns them."""
        try:
            await self._batcher.aclose()
        finally:
            if self._owns_client:
                await close_client(self._client)

    async def _run(self, key: str, rate: Rate, cost: int, now: tuple[int, ...]) -> Decision:
        check_cost(cost)
        args = (rate.emission_interval_us, rate.burst, cost, *now)
        reply = await self._batcher.call(self._prefix + key, args)
        verdict, remaining, retry_us, reset_us = reply
        return decision_from_us(int(verdict), int(remaining), int(retry_us), int(reset_us), rate)
