"""The Redis client for ``DCC_REDIS_URL``: one server, Sentinel or Cluster.

=====================================================  =====================================
``redis://[[user]:password@]host:port/db``              one server (also ``rediss://`` TLS,
                                                        ``unix:///path.sock``)
``redis+sentinel://[[user]:password@]h1:p1,h2:p2/name[/db]``  the master of Sentinel service
                                                        ``name``, found through the listed
                                                        sentinels (credentials: the master's)
``redis+cluster://[[user]:password@]h1:p1,h2:p2``       a Redis Cluster; the listed nodes are
                                                        where discovery starts
=====================================================  =====================================

Sentinel: the client is a plain :class:`redis.asyncio.Redis` whose pool asks the sentinels
for the master at every (re)connection, so after a failover the next reconnect reaches the
new master, and a demoted master's ``READONLY`` answer drops the connection. Cluster: a
:class:`redis.asyncio.RedisCluster`; the quota script touches one key per call, so each call
runs on the node owning that key's slot (MOVED/ASK and failovers are followed by the client).
Every client gets the same short timeouts (a dead Redis costs milliseconds).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import unquote

import redis.asyncio as aioredis
from redis.asyncio.cluster import ClusterNode, RedisCluster
from redis.asyncio.retry import Retry
from redis.asyncio.sentinel import Sentinel, SentinelConnectionPool
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError

__all__ = ["RedisClient", "Topology", "close_client", "connect", "parse_topology"]

RedisClient = aioredis.Redis | RedisCluster
"""What :func:`connect` returns: a single-server (or Sentinel-managed) client, or a cluster."""

SENTINEL_SCHEME: Final = "redis+sentinel"
CLUSTER_SCHEME: Final = "redis+cluster"
_CLIENT_NAME: Final = "dcc-service-ratelimit"


@dataclass(frozen=True)
class Topology:
    """A parsed ``DCC_REDIS_URL``: its kind, the nodes listed, and the rest."""

    kind: str  # "single", "sentinel" or "cluster"
    url: str
    nodes: tuple[tuple[str, int], ...] = ()
    service: str = ""
    db: int = 0
    username: str | None = None
    password: str | None = None


def parse_topology(url: str) -> Topology:
    """Parse ``url`` (raises ``ValueError`` naming what is wrong)."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise ValueError("expected a URL such as redis://host:6379/0")
    if scheme not in (SENTINEL_SCHEME, CLUSTER_SCHEME):
        aioredis.connection.parse_url(url)  # redis-py's own check (scheme, port, db)
        return Topology("single", url)
    authority, _, path = rest.partition("/")
    username = password = None
    if "@" in authority:
        credentials, _, authority = authority.rpartition("@")
        user, colon, secret = credentials.partition(":")
        username = unquote(user) or None
        password = unquote(secret) if colon else None
    nodes = tuple(_host_port(item) for item in authority.split(",") if item)
    if not nodes:
        raise ValueError(f"{scheme}:// needs at least one host:port")
    parts = [part for part in path.split("?")[0].split("/") if part]
    if scheme == CLUSTER_SCHEME:
        if parts:
            raise ValueError("redis+cluster:// takes no path (a cluster has database 0 only)")
        return Topology("cluster", url, nodes, username=username, password=password)
    if not parts or len(parts) > 2:
        raise ValueError("redis+sentinel:// needs the service name: …/mymaster or …/mymaster/0")
    db = int(parts[1]) if len(parts) == 2 else 0
    return Topology("sentinel", url, nodes, unquote(parts[0]), db, username, password)


def _host_port(item: str) -> tuple[str, int]:
    host, colon, port = item.rpartition(":")
    if not colon or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{item!r} is not host:port")
    return host.strip("[]"), int(port)


def connect(
    url: str,
    *,
    socket_timeout: float,
    connect_timeout: float,
    health_check_interval: int,
    max_connections: int | None,
) -> RedisClient:
    """A client for ``url`` (not connected yet: connections open at first use)."""
    topology = parse_topology(url)
    retry = Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,))
    common: dict[str, Any] = {
        "socket_timeout": socket_timeout,
        "socket_connect_timeout": connect_timeout,
        "retry": retry,
        "client_name": _CLIENT_NAME,
    }
    if topology.kind == "single":
        return aioredis.Redis.from_url(
            url,
            health_check_interval=health_check_interval,
            max_connections=max_connections,
            **common,
        )
    credentials: dict[str, Any] = {"username": topology.username, "password": topology.password}
    if topology.kind == "sentinel":
        sentinels = Sentinel(
            list(topology.nodes),
            sentinel_kwargs={
                "socket_timeout": socket_timeout,
                "socket_connect_timeout": connect_timeout,
            },
        )
        client: aioredis.Redis = sentinels.master_for(
            topology.service,
            db=topology.db,
            health_check_interval=health_check_interval,
            max_connections=max_connections,
            **credentials,
            **common,
        )
        return client
    return RedisCluster(
        startup_nodes=[ClusterNode(host, port) for host, port in topology.nodes],
        max_connections=max_connections or 100,  # per node
        **credentials,
        **common,
    )


async def close_client(client: RedisClient) -> None:
    """Close ``client`` and, for a Sentinel-managed one, its connections to the sentinels."""
    pool = None if isinstance(client, RedisCluster) else client.connection_pool
    try:
        await client.aclose()
    finally:
        if isinstance(pool, SentinelConnectionPool):
            for sentinel in pool.sentinel_manager.sentinels:
                await sentinel.aclose()
