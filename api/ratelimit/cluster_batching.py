"""Auto-pipelining of the quota script on a Redis Cluster.

:class:`ClusterScriptBatcher` queues calls exactly as
:class:`~api.ratelimit.batching.ScriptBatcher` does (one drain task, at most one batch in
flight, order kept), but sends each batch through the cluster client's pipeline: redis-py
groups the ``EVALSHA`` commands by the node owning each key's slot, writes one pipeline per
node, and follows ``MOVED``/``ASK`` redirections and failovers (refreshing the slot map).
Every call touches one key, so no call ever spans slots. ``NOSCRIPT`` (a node restarted, or
a replica promoted after a failover, whose script cache is empty) loads the script on every
primary and sends the affected calls again once.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import deque
from collections.abc import Sequence
from typing import Any

from redis.asyncio.cluster import RedisCluster
from redis.exceptions import NoScriptError

from api.ratelimit.batching import DEFAULT_MAX_BATCH, ScriptBatcher, _Call
from signing.errors import ConfigError

__all__ = ["ClusterScriptBatcher"]


class ClusterScriptBatcher(ScriptBatcher):
    """Runs one Lua script by ``EVALSHA`` on a cluster, coalescing concurrent calls."""

    def __init__(
        self, client: RedisCluster, script: str, *, max_batch: int = DEFAULT_MAX_BATCH
    ) -> None:
        # Not the parent's __init__: a cluster has no single connection pool to hold.
        if max_batch < 1:
            raise ConfigError("max_batch must be at least 1", code="rate_limiter_invalid")
        self._cluster = client
        self._script = script
        self._sha = hashlib.sha1(script.encode()).hexdigest().encode()  # noqa: S324 (script id)
        self._max_batch = max_batch
        self._queue: deque[_Call] = deque()
        self._drain: asyncio.Task[None] | None = None
        self._connection = None
        self._closed = False

    async def _execute(self, batch: Sequence[_Call]) -> list[Any]:
        """Every call's reply (or its own error), in order; NOSCRIPT loads and resends."""
        replies = await self._pipeline(batch)
        missing = [i for i, reply in enumerate(replies) if isinstance(reply, NoScriptError)]
        if missing:
            try:
                await self._cluster.script_load(self._script)
                again = await self._pipeline([batch[i] for i in missing])
            except Exception as exc:  # only these calls failed; the others ran
                again = [exc] * len(missing)
            for i, reply in zip(missing, again, strict=True):
                replies[i] = reply
        return replies

    async def _pipeline(self, calls: Sequence[_Call]) -> list[Any]:
        pipe = self._cluster.pipeline()
        sha = self._sha.decode()
        for call in calls:
            pipe.evalsha(sha, 1, call.key, *call.args)
        replies: list[Any] = await pipe.execute(raise_on_error=False)
        return replies

    async def _release(self) -> None:
        """Nothing held: the cluster client owns its per-node pools."""
