"""Real Redis topologies on loopback, for tests and the failover recorder.

:class:`RedisCluster` starts six ``redis-server`` processes in cluster mode (3 masters, 3
replicas, ``redis-cli --cluster create``); :class:`RedisSentinelSet` starts a master, a
replica and three sentinels (quorum 2). Ports are free loopback ports, nothing is saved to
disk, failure detection is short (cluster node timeout and sentinel down-after 500 ms) so a
killed master is replaced within seconds. Each is a context manager; :meth:`close` stops
every process it started.
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Final, Self

import redis

from loadtests.servers import LOOPBACK, free_port

__all__ = ["RedisCluster", "RedisNode", "RedisSentinelSet", "redis_binaries"]

_START_TIMEOUT: Final = 30.0
SENTINEL_SERVICE: Final = "dcc"


def redis_binaries() -> tuple[str, str] | None:
    """(redis-server, redis-cli) when both are installed, else None."""
    server, cli = shutil.which("redis-server"), shutil.which("redis-cli")
    return (server, cli) if server and cli else None


def _wait(condition: Callable[[], bool], what: str, timeout: float = _START_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(redis.RedisError, OSError):
            if condition():
                return
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.05)


class RedisNode:
    """One redis-server (or sentinel) process on a fixed loopback port."""

    def __init__(self, binary: str, workdir: Path, args: list[str], *, port: int = 0) -> None:
        self.port = port or free_port()
        self._binary = binary
        self._workdir = workdir
        self._args = args
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def client(self, timeout: float = 1.0) -> redis.Redis:
        return redis.Redis(host=LOOPBACK, port=self.port, socket_timeout=timeout)

    def start(self) -> None:
        """Start and wait until it answers PING."""
        log = (self._workdir / f"redis-{self.port}.log").open("ab")
        self._process = subprocess.Popen(  # noqa: S603 (the installed redis-server)
            [self._binary, *self._args],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=self._workdir,
            start_new_session=True,
        )
        log.close()
        process = self._process

        def answers() -> bool:
            if process.poll() is not None:
                raise RuntimeError(f"redis on port {self.port} exited at start")
            with self.client() as probe:
                return bool(probe.ping())

        _wait(answers, f"redis on port {self.port}")

    def kill(self) -> None:
        """SIGKILL and wait (a crash: connections reset, nothing flushed)."""
        if self._process is not None and self._process.poll() is None:
            self._process.send_signal(signal.SIGKILL)
            self._process.wait(timeout=10)
        self._process = None

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=10)
        self._process = None


def _cluster_port() -> int:
    """A free port P <= 55535 whose cluster bus port P + 10000 is free too."""
    for _ in range(1000):
        port = free_port()
        if port > 55535:
            continue
        with contextlib.suppress(OSError), socket.socket() as probe:
            probe.bind((LOOPBACK, port + 10000))
            return port
    raise RuntimeError("no free port pair for a cluster node")


def _cluster_ok(node: RedisNode) -> bool:
    with node.client() as client:
        info: bytes = client.execute_command("CLUSTER", "INFO")
    return "cluster_state:ok" in info.decode()


def _server_args(port: int, workdir: Path, *extra: str) -> list[str]:
    return [
        "--port", str(port), "--bind", LOOPBACK, "--save", "", "--appendonly", "no",
        "--dir", str(workdir), "--daemonize", "no", *extra,
    ]  # fmt: skip


class _Topology:
    def __init__(self) -> None:
        found = redis_binaries()
        if found is None:
            raise RuntimeError("redis-server and redis-cli are not installed (make system-deps)")
        self.server_bin, self.cli_bin = found
        self.root = Path(tempfile.mkdtemp(prefix="dcc-redis-"))
        self.nodes: list[RedisNode] = []

    def _node(self, args: Callable[[int], list[str]], *, cluster: bool = False) -> RedisNode:
        port = _cluster_port() if cluster else free_port()
        node = RedisNode(self.server_bin, self.root, args(port), port=port)
        self.nodes.append(node)
        node.start()
        return node

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        for node in reversed(self.nodes):
            node.kill()
        shutil.rmtree(self.root, ignore_errors=True)


class RedisCluster(_Topology):
    """3 masters + 3 replicas in cluster mode, all slots covered, replicas in sync."""

    def __init__(self, *, node_timeout_ms: int = 500) -> None:
        super().__init__()
        try:
            for _ in range(6):
                self._node(
                    lambda port: _server_args(
                        port, self.root,
                        "--cluster-enabled", "yes",
                        "--cluster-config-file", f"nodes-{port}.conf",
                        "--cluster-node-timeout", str(node_timeout_ms),
                        "--cluster-replica-validity-factor", "0",
                    ),
                    cluster=True,
                )  # fmt: skip
            addresses = [f"{LOOPBACK}:{node.port}" for node in self.nodes]
            subprocess.run(  # noqa: S603
                [
                    self.cli_bin,
                    "--cluster",
                    "create",
                    *addresses,
                    "--cluster-yes",
                    "--cluster-replicas",
                    "1",
                ],
                check=True,
                capture_output=True,
                timeout=_START_TIMEOUT,
            )
            _wait(self._settled, "the cluster to settle")
        except BaseException:
            self.close()
            raise

    @property
    def url(self) -> str:
        """``redis+cluster://`` listing every node."""
        return "redis+cluster://" + ",".join(f"{LOOPBACK}:{n.port}" for n in self.nodes)

    def _settled(self) -> bool:
        masters = 0
        for node in self.nodes:
            if not node.running:
                continue
            with node.client() as client:
                info = client.execute_command("CLUSTER", "INFO").decode()
                if "cluster_state:ok" not in info:
                    return False
                role = client.info("replication")
                if role["role"] == "master":
                    masters += 1
                elif role.get("master_link_status") != "up":
                    return False
        return masters == 3

    def master_of(self, key: str) -> RedisNode:
        """The node currently serving ``key``'s slot as master."""
        with self.nodes[0].client() if self.nodes[0].running else self._any().client() as c:
            slot = int(c.execute_command("CLUSTER", "KEYSLOT", key))
        for node in self.nodes:
            if not node.running:
                continue
            with node.client() as client:
                if client.info("replication")["role"] != "master":
                    continue
                for entry in client.execute_command("CLUSTER", "SLOTS"):
                    start, end, owner = int(entry[0]), int(entry[1]), entry[2]
                    if start <= slot <= end and int(owner[1]) == node.port:
                        return node
        raise RuntimeError(f"no master serves slot {slot}")

    def _any(self) -> RedisNode:
        return next(node for node in self.nodes if node.running)

    def wait_failover(self, killed: RedisNode, key: str, timeout: float = _START_TIMEOUT) -> None:
        """Wait until another node serves ``key``'s slot and the cluster is ok again."""

        def replaced() -> bool:
            try:
                master = self.master_of(key)
            except RuntimeError:  # no master for the slot yet
                return False
            return master is not killed and all(
                _cluster_ok(node) for node in self.nodes if node.running
            )

        _wait(replaced, "the cluster failover", timeout)


class RedisSentinelSet(_Topology):
    """A master, one replica and three sentinels watching service ``dcc`` (quorum 2)."""

    def __init__(self, *, down_after_ms: int = 500) -> None:
        super().__init__()
        try:
            self.master = self._node(lambda port: _server_args(port, self.root))
            self.replica = self._node(
                lambda port: _server_args(
                    port, self.root, "--replicaof", LOOPBACK, str(self.master.port)
                )
            )
            self.sentinels = [self._sentinel(down_after_ms) for _ in range(3)]
            _wait(self._settled, "the sentinels to see each other and the replica")
        except BaseException:
            self.close()
            raise

    def _sentinel(self, down_after_ms: int) -> RedisNode:
        port = free_port()
        config = self.root / f"sentinel-{port}.conf"
        config.write_text(
            f"port {port}\nbind {LOOPBACK}\ndaemonize no\n"
            f"sentinel monitor {SENTINEL_SERVICE} {LOOPBACK} {self.master.port} 2\n"
            f"sentinel down-after-milliseconds {SENTINEL_SERVICE} {down_after_ms}\n"
            f"sentinel failover-timeout {SENTINEL_SERVICE} 2000\n"
            f"sentinel parallel-syncs {SENTINEL_SERVICE} 1\n"
        )
        node = RedisNode(self.server_bin, self.root, [str(config), "--sentinel"], port=port)
        self.nodes.append(node)
        node.start()
        return node

    def _settled(self) -> bool:
        for sentinel in self.sentinels:
            with sentinel.client() as client:
                state = client.sentinel_master(SENTINEL_SERVICE)
                if int(state["num-other-sentinels"]) < 2 or int(state["num-slaves"]) < 1:
                    return False
        with self.replica.client() as client:
            return bool(client.info("replication").get("master_link_status") == "up")

    @property
    def url(self) -> str:
        """``redis+sentinel://`` listing the three sentinels, service ``dcc``."""
        hosts = ",".join(f"{LOOPBACK}:{s.port}" for s in self.sentinels)
        return f"redis+sentinel://{hosts}/{SENTINEL_SERVICE}/0"

    def current_master_port(self) -> int:
        with self.sentinels[0].client() as client:
            address = client.sentinel_get_master_addr_by_name(SENTINEL_SERVICE)
        return int(address[1])

    def wait_failover(self, timeout: float = _START_TIMEOUT) -> None:
        """Wait until the sentinels name the replica as master and it accepts writes."""

        def promoted() -> bool:
            if self.current_master_port() != self.replica.port:
                return False
            with self.replica.client() as client:
                return bool(client.info("replication")["role"] == "master")

        _wait(promoted, "the sentinel failover", timeout)
