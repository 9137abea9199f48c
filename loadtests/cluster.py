"""Three ``dcc serve`` replicas behind HAProxy, sharing one Redis and one PostgreSQL.

:class:`HaproxyCluster` starts (all on loopback, free ports) a private Redis, a private
PostgreSQL cluster with the schema applied, N replicas (``dcc serve``, ``DCC_REPLICAS`` =
N, ``DCC_TRUSTED_PROXIES`` = loopback) and Debian's ``haproxy`` in front of them with the
configuration :func:`haproxy_config` writes (the same shape as ``deploy/haproxy.cfg``):
round robin, ``/readyz`` health checks every 200 ms, a new server connection per request,
and retries with redispatch on connection failures, so a replica that is gone or
draining is routed around. :meth:`kill` SIGKILLs one replica; :meth:`restart` takes one
out of the balancer (runtime API), stops it gracefully (SIGTERM: it drains) and starts it
again on the same port.

Used by tests/loadtests/test_cluster.py and by ``make surge``'s cluster option
(:mod:`loadtests.surge_cluster`).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import Final, Self

from loadtests.servers import LOOPBACK, Server, ServerSet, free_port, wait_http

__all__ = ["BALANCER_SOURCE", "HaproxyCluster", "haproxy_config"]

_CHECK_INTERVAL_MS: Final = 200
BALANCER_SOURCE: Final = "127.0.0.2"
"""The address HAProxy connects to the replicas from (the one trusted proxy)."""


def haproxy_config(port: int, replicas: list[int], *, admin_socket: Path) -> str:
    """An HAProxy configuration balancing ``port`` over the replicas' ports, with its runtime
    API on ``admin_socket`` (taking a replica out before it is restarted)."""
    servers = "\n".join(f"    server r{i} {LOOPBACK}:{p} check" for i, p in enumerate(replicas))
    return f"""global
    maxconn 4096
    stats socket {admin_socket} mode 600 level admin

defaults
    mode http
    timeout connect 1s
    timeout client 30s
    timeout server 30s
    timeout queue 5s
    # A replica that refuses (gone, or draining after SIGTERM) gets the request elsewhere.
    retries 3
    option redispatch 1
    retry-on conn-failure empty-response
    # One server connection per request: never a request sent on a keep-alive connection
    # that a draining replica is closing.
    option http-server-close

frontend dcc
    bind {LOOPBACK}:{port}
    # Appends the client address; replicas trust it (DCC_TRUSTED_PROXIES) for the verify quota.
    option forwardfor
    default_backend replicas

backend replicas
    balance roundrobin
    option httpchk GET /readyz
    http-check expect status 200
    # From its own loopback address: the replicas trust only it (DCC_TRUSTED_PROXIES), so a
    # client on 127.0.0.1 (or any other 127.x) is a traveller, not a proxy.
    default-server inter {_CHECK_INTERVAL_MS}ms fall 1 rise 1 source {BALANCER_SOURCE}
{servers}
"""


class HaproxyCluster:
    """Redis + PostgreSQL + N ``dcc serve`` replicas + HAProxy, stopped by :meth:`close`."""

    def __init__(
        self,
        *,
        replicas: int = 3,
        workers: int = 1,
        env: dict[str, str] | None = None,
        log_level: str = "warning",
    ) -> None:
        binary = shutil.which("haproxy") or (
            "/usr/sbin/haproxy" if Path("/usr/sbin/haproxy").exists() else None
        )
        if binary is None:
            raise RuntimeError("haproxy is not installed (make system-deps)")
        self._set = ServerSet()
        self._haproxy: subprocess.Popen[bytes] | None = None
        self._workers = workers
        self._log_level = log_level
        try:
            self.redis_url = self._set.start_redis()
            self.database_url = self._set.start_postgres()
            self.env = {
                "DCC_DATABASE_URL": self.database_url,
                "DCC_REDIS_URL": self.redis_url,
                "DCC_REPLICAS": str(replicas * workers),
                "DCC_TRUSTED_PROXIES": f"{BALANCER_SOURCE}/32",
                "DCC_DRAIN_SECONDS": "10",
                **(env or {}),
            }
            _ = self._set.keys_dir  # generated once, before the replicas start together
            with ThreadPoolExecutor(replicas) as starting:
                self.replicas: list[Server] = list(
                    starting.map(
                        lambda i: self._start_replica(f"replica-{i}", free_port()),
                        range(replicas),
                    )
                )
            self.port = free_port()
            config = self._set.root / "haproxy.cfg"
            self._admin = self._set.root / "haproxy.sock"
            ports = [r.port for r in self.replicas]
            config.write_text(haproxy_config(self.port, ports, admin_socket=self._admin))
            subprocess.run([binary, "-c", "-q", "-f", str(config)], check=True)  # noqa: S603
            log = (self._set.root / "haproxy.log").open("wb")
            self._haproxy = subprocess.Popen(  # noqa: S603 (Debian's haproxy)
                [binary, "-db", "-f", str(config)],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            log.close()
            wait_http(f"{self.url}/readyz", self._haproxy)
        except BaseException:
            self.close()
            raise

    @property
    def url(self) -> str:
        """The balancer's address: ``http://127.0.0.1:<port>``."""
        return f"http://{LOOPBACK}:{self.port}"

    def add_account(self, name: str, role: str) -> str:
        """A new API account in the shared database; its key."""
        return self._set.add_account(self.database_url, name, role)

    def _start_replica(self, name: str, port: int) -> Server:
        return self._set.start_dcc(
            name, self.env, workers=self._workers, log_level=self._log_level, port=port
        )

    def kill(self, index: int) -> None:
        """SIGKILL replica ``index`` and all its processes (a crash)."""
        process = self.replicas[index].process
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)

    def restart(self, index: int) -> None:
        """Restart replica ``index`` the way an operator does (Kubernetes does the same with
        endpoint removal and a preStop pause): take it out of the balancer and wait until
        HAProxy has no connection left to it, SIGTERM it (it drains and exits), start it
        again on its port, wait until it is ready and put it back."""
        old = self.replicas[index]
        self.admin(f"set server replicas/r{index} state maint")
        deadline = time.monotonic() + 10
        while self.sessions(index) and time.monotonic() < deadline:
            time.sleep(0.02)
        self._set.stop(old)
        self.replicas[index] = self._start_replica(old.name, old.port)
        self.admin(f"set server replicas/r{index} state ready")

    def admin(self, command: str) -> str:
        """One command on HAProxy's runtime API; its answer."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.connect(str(self._admin))
            conn.sendall(command.encode() + b"\n")
            chunks = []
            while chunk := conn.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks).decode()

    def sessions(self, index: int) -> int:
        """Connections HAProxy has open to replica ``index`` now."""
        lines = self.admin("show stat").splitlines()
        header = lines[0].lstrip("# ").split(",")
        for line in lines[1:]:
            row = dict(zip(header, line.split(","), strict=False))
            if row.get("pxname") == "replicas" and row.get("svname") == f"r{index}":
                return int(row["scur"] or 0)
        raise RuntimeError(f"replica r{index} not in HAProxy's stats")

    def replica_ready(self, index: int) -> bool:
        """Whether replica ``index`` answers ``/readyz`` 200 directly."""
        url = f"{self.replicas[index].url}/readyz"
        try:
            with urllib.request.urlopen(url, timeout=1.0) as response:  # noqa: S310 (loopback)
                return bool(response.status == 200)
        except OSError:
            return False

    def settle(self) -> None:
        """Wait two health-check intervals (HAProxy has seen a state change)."""
        time.sleep(2 * _CHECK_INTERVAL_MS / 1000)

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
        """Stop HAProxy, the replicas, Redis and PostgreSQL; remove the folder."""
        if self._haproxy is not None and self._haproxy.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._haproxy.pid, signal.SIGTERM)
            try:
                self._haproxy.wait(10)
            except subprocess.TimeoutExpired:
                self._haproxy.kill()
                self._haproxy.wait(10)
        self._set.close()
