"""Servers the HTTP benches and the surge start for themselves, always on loopback.

:class:`ServerSet` owns a temporary directory and every subprocess it starts: a private
``redis-server`` on a free port (nothing saved to disk), ``dcc serve`` with generated keys
and accounts, and the bare comparison endpoint (:mod:`loadtests.bare_app`). Each process
runs in its own session so that closing the set stops it and all of its workers
(SIGTERM to the process group, SIGKILL after a grace period); closing is idempotent and
also happens on exceptions (use it as a context manager).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Final, Self

from loadtests.fixtures import make_keys
from loadtests.postgres import PostgresServer

__all__ = ["LOOPBACK", "Server", "ServerSet", "free_port", "wait_http"]

LOOPBACK: Final = "127.0.0.1"
_START_TIMEOUT: Final = 30.0
_STOP_GRACE: Final = 10.0
_DCC: Final = Path(sys.executable).with_name("dcc")


def free_port() -> int:
    """A TCP port free on loopback right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        port: int = probe.getsockname()[1]
        return port


def wait_http(url: str, process: subprocess.Popen[bytes], timeout: float = _START_TIMEOUT) -> None:
    """Wait until ``url`` answers 200, or raise when the process dies or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with code {process.returncode} before {url}")
        try:
            with urllib.request.urlopen(url, timeout=1.0) as response:  # noqa: S310 (loopback)
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s")


def _wait_redis(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + _START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("redis-server exited at start")
        with contextlib.suppress(OSError), socket.create_connection((LOOPBACK, port), 1) as conn:
            conn.sendall(b"PING\r\n")
            if conn.recv(16).startswith(b"+PONG"):
                return
        time.sleep(0.05)
    raise RuntimeError("redis-server did not answer PING")


@dataclass
class Server:
    """One started subprocess and where it listens."""

    name: str
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"


@dataclass
class ServerSet:
    """A temporary directory and the servers started in it; close() stops them all."""

    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="dcc-load-")))
    servers: list[Server] = field(default_factory=list)
    _keys_dir: Path | None = None
    _postgres: list[PostgresServer] = field(default_factory=list)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def keys_dir(self) -> Path:
        """Keys generated once per set (ES256 CSCA + DSC)."""
        if self._keys_dir is None:
            self._keys_dir = make_keys(self.root)
        return self._keys_dir

    def _spawn(self, name: str, argv: list[str], env: Mapping[str, str], port: int) -> Server:
        log = self.root / f"{name}.log"
        with log.open("wb") as handle:
            process = subprocess.Popen(  # noqa: S603 (our own interpreter and binaries)
                argv,
                stdin=subprocess.DEVNULL,
                stdout=handle,
                stderr=subprocess.STDOUT,
                env={**os.environ, **env},
                start_new_session=True,
            )
        server = Server(name, process, port, log)
        self.servers.append(server)
        return server

    def start_redis(self) -> str:
        """A private redis-server on a free loopback port; returns its URL."""
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed (make system-deps)")
        port = free_port()
        argv = [
            binary,
            "--port",
            str(port),
            "--bind",
            LOOPBACK,
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(self.root),
            "--protected-mode",
            "yes",
        ]
        server = self._spawn(f"redis-{port}", argv, {}, port)
        _wait_redis(port, server.process)
        return f"redis://{LOOPBACK}:{port}/0"

    def database(self, url: str | None = None) -> str:
        """A database for ``dcc serve`` at the code's schema: ``url``, else a new SQLite file
        in this set's folder; returns its URL."""
        url = url or f"sqlite:///{self.root / 'dcc.sqlite3'}"
        self._dcc(["db", "upgrade"], url)
        return url

    def start_postgres(self) -> str:
        """A private PostgreSQL cluster (fsync on) with an upgraded database; its URL."""
        server = PostgresServer()
        self._postgres.append(server)
        server.start()
        return self.database(server.url)

    def add_account(self, database_url: str, name: str, role: str) -> str:
        """Create an API account with ``dcc accounts add``; return its key (last line)."""
        output = self._dcc(["accounts", "add", "--name", name, "--role", role], database_url)
        return output.strip().splitlines()[-1]

    def _dcc(self, args: list[str], database_url: str) -> str:
        result = subprocess.run(  # noqa: S603
            [str(_DCC), *args],
            check=True,
            capture_output=True,
            text=True,
            env={**os.environ, "DCC_DATABASE_URL": database_url},
        )
        return result.stdout

    def start_dcc(
        self,
        name: str,
        env: Mapping[str, str],
        *,
        workers: int,
        log_level: str = "warning",
        port: int | None = None,
        server: str | None = None,
    ) -> Server:
        """``dcc serve`` on ``port`` (default: a free one) with this set's keys; waits for
        ``/readyz``.

        ``server`` names the ASGI server (``--server``; default: ``dcc serve``'s). ``env``
        may set ``PYTHONPATH`` to run another checkout's code (a baseline)."""
        port = port or free_port()
        argv = [
            str(_DCC),
            "serve",
            "--host",
            LOOPBACK,
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--log-level",
            log_level,
            *(["--server", server] if server else []),
        ]
        full_env = {"DCC_KEYS_DIR": str(self.keys_dir), **env}
        started = self._spawn(name, argv, full_env, port)
        self._wait(started, "/readyz")
        return started

    def start_bare(
        self, name: str, *, workers: int, response_bytes: int, plain: bool = False
    ) -> Server:
        """The bare endpoint (same uvicorn settings as ``dcc serve``) on a free port
        (``plain``: mounted as a plain route, like dcc's single-issue route)."""
        port = free_port()
        argv = [
            sys.executable,
            "-m",
            "loadtests.bare_app",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--response-bytes",
            str(response_bytes),
            *(["--plain"] if plain else []),
        ]
        server = self._spawn(name, argv, {}, port)
        self._wait(server, "/healthz")
        return server

    def _wait(self, server: Server, path: str) -> None:
        """Wait for ``path`` to answer; on failure, raise with the end of the server's log."""
        try:
            wait_http(f"{server.url}{path}", server.process)
        except RuntimeError as exc:
            tail = server.log.read_text(encoding="utf-8", errors="replace")[-2000:]
            raise RuntimeError(f"{server.name}: {exc}\n--- log ---\n{tail}") from None

    def stop(self, server: Server) -> None:
        """Stop one server and its workers (SIGTERM, then SIGKILL after a grace period)."""
        process = server.process
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(_STOP_GRACE)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(_STOP_GRACE)
        # Workers that outlived their parent share its process group.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        if server in self.servers:
            self.servers.remove(server)

    def close(self, *, keep_root: bool = False) -> None:
        """Stop every server (last started first) and remove the directory."""
        for server in reversed(list(self.servers)):
            self.stop(server)
        for database in self._postgres:
            database.close()
        if not keep_root:
            shutil.rmtree(self.root, ignore_errors=True)
