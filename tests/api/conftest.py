"""Fixtures for the HTTP tests: keys and accounts in tmp_path, the app with its lifespan run,
and a real ``redis-server``.

``app_client`` runs ``create_app(settings)`` in process through ``httpx.ASGITransport``;
the lifespan is entered by hand (``app.router.lifespan_context``) because the transport
does not send lifespan events.

:class:`RedisServer` runs Debian's ``redis-server`` on a free loopback port in a temp dir
(no persistence, ``DEBUG`` allowed from localhost) and injects faults: ``stop`` (SIGTERM),
``kill`` (SIGKILL), ``pause`` (SIGSTOP, SIGCONT after a delay: the server hangs while TCP
still accepts, which exercises read timeouts), ``restart`` (same port, empty script cache).
Tests skip with a reason when ``redis-server`` is not installed (``make system-deps``).
Fixtures: ``redis_server`` (one per session, never to be broken) and ``own_redis`` (one
per test, free to kill, pause and restart).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from fastapi import FastAPI

from api.app import create_app
from api.ratelimit import Rate
from api.runtime import Resources
from api.settings import Settings
from tests.accounts import add_account, migrated_sqlite


@dataclass(frozen=True)
class Service:
    """A running app, an HTTP client for it, and two API keys."""

    app: FastAPI
    client: httpx.AsyncClient
    lab_key: str
    pharmacist_key: str
    lab_id: str

    @property
    def resources(self) -> Resources:
        resources: Resources = self.app.state.resources
        return resources

    def auth(self, key: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {key or self.lab_key}"}


@pytest.fixture
def settings(session_keys: Path, tmp_path: Path) -> Settings:
    """Settings pointing at a copy of the session keys (a test may rotate or revoke them)
    and a fresh SQLite database."""
    return Settings(
        keys_dir=shutil.copytree(session_keys, tmp_path / "settings-keys"),
        database_url=migrated_sqlite(tmp_path),
        rate_pharmacist=Rate.parse("60/minute"),
        rate_lab=Rate.parse("1000/minute"),
        rate_global=Rate.parse("5000/second"),
        rate_verify=Rate.parse("100/minute"),
        trust_lists=(tmp_path / "trust",),
    )


ServiceFactory = Callable[..., Any]


@pytest.fixture
async def start_service(settings: Settings) -> AsyncIterator[ServiceFactory]:
    """Start the app (optionally with changed settings / create_app arguments)."""
    stack: list[Any] = []

    async def start(changes: dict[str, Any] | None = None, **app_args: Any) -> Service:
        effective = replace(settings, **(changes or {}))
        # In a thread, with this loop running: a service started before may be inside a
        # database transaction that needs the loop to finish (blocking it held SQLite's lock).
        url = effective.database_url
        lab = await asyncio.to_thread(add_account, url, name=f"lab-{len(stack)}", role="lab")
        pharmacist = await asyncio.to_thread(
            add_account, url, name=f"pharmacy-{len(stack)}", role="pharmacist"
        )
        app = create_app(effective, **app_args)
        lifespan = app.router.lifespan_context(app)
        await lifespan.__aenter__()
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        )
        stack.append((lifespan, client))
        return Service(app, client, lab.api_key, pharmacist.api_key, lab.account.id)

    yield start
    for lifespan, client in reversed(stack):
        await client.aclose()
        await lifespan.__aexit__(None, None, None)


@pytest.fixture
async def service(start_service: ServiceFactory) -> Service:
    """The app with the default test settings."""
    started: Service = await start_service()
    return started


_START_TIMEOUT = 5.0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class RedisServer:
    """One ``redis-server`` process on 127.0.0.1 that tests may stop, pause and restart."""

    def __init__(self, binary: str, workdir: Path) -> None:
        self._binary = binary
        self._workdir = workdir
        self.port = _free_port()
        self._process: subprocess.Popen[bytes] | None = None
        self._resume_timer: threading.Timer | None = None
        self._log = (workdir / "redis.log").open("ab")

    @property
    def url(self) -> str:
        """``redis://127.0.0.1:<port>/0``."""
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def pid(self) -> int:
        """The server's process id (raises if it is not running)."""
        assert self._process is not None, "redis-server is not running"
        return self._process.pid

    @property
    def running(self) -> bool:
        """Whether the process exists (it may be paused)."""
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        """Start the server and wait until it answers PING."""
        assert not self.running, "redis-server already running"
        self._process = subprocess.Popen(
            [
                self._binary,
                "--port", str(self.port),
                "--bind", "127.0.0.1",
                "--save", "",
                "--appendonly", "no",
                "--enable-debug-command", "local",
                "--daemonize", "no",
                "--dir", str(self._workdir),
            ],
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + _START_TIMEOUT
        while True:
            try:
                with self.client() as probe:
                    if probe.ping():
                        return
            except redis.RedisError:
                if self._process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"redis-server did not start on port {self.port}") from None
                time.sleep(0.01)

    def client(self) -> redis.Redis:
        """A synchronous client for inspecting the server (PTTL, SCRIPT FLUSH, ...)."""
        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=1.0)

    def stop(self) -> None:
        """SIGTERM and wait for the exit (no-op when not running)."""
        self._end(signal.SIGTERM)

    def kill(self) -> None:
        """SIGKILL and wait: Redis vanishes at once, connections are reset."""
        self._end(signal.SIGKILL)

    def pause(self, seconds: float) -> None:
        """SIGSTOP now and SIGCONT after ``seconds`` (or at :meth:`resume`); returns at once."""
        self._cancel_timer()
        os.kill(self.pid, signal.SIGSTOP)
        self._resume_timer = threading.Timer(seconds, self.resume)
        self._resume_timer.daemon = True
        self._resume_timer.start()

    def resume(self) -> None:
        """SIGCONT a paused server now."""
        self._cancel_timer()
        if self.running:
            os.kill(self.pid, signal.SIGCONT)

    def restart(self) -> None:
        """Kill (if running) and start again on the same port; all data and scripts are gone."""
        self.kill()
        self.start()

    def ensure_running(self) -> None:
        """Undo earlier faults: resume a paused server, start a dead one."""
        if self.running:
            self.resume()
        else:
            self.start()

    def close(self) -> None:
        """Stop the server for good."""
        self.stop()
        self._log.close()

    def _end(self, sig: signal.Signals) -> None:
        self._cancel_timer()
        if self._process is None:
            return
        if self._process.poll() is None:
            self._process.send_signal(sig)
            os.kill(self._process.pid, signal.SIGCONT)  # a stopped process must run to exit
            self._process.wait(timeout=_START_TIMEOUT)
        self._process = None

    def _cancel_timer(self) -> None:
        if self._resume_timer is not None:
            self._resume_timer.cancel()
            self._resume_timer = None


def _make_server(tmp_path_factory: pytest.TempPathFactory) -> RedisServer:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server not on PATH (install it with `make system-deps`)")
    server = RedisServer(binary, tmp_path_factory.mktemp("redis"))
    server.start()
    return server


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A Redis shared by the whole session; tests must not break it (use ``own_redis``)."""
    server = _make_server(tmp_path_factory)
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def own_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A Redis for this test alone, free to kill, pause and restart."""
    server = _make_server(tmp_path_factory)
    try:
        yield server
    finally:
        server.close()


DCC_BIN = Path(sys.executable).with_name("dcc")
_SERVE_START_TIMEOUT = 20.0


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


class DccServer:
    """One ``dcc serve`` subprocess on a free loopback port, in its own process group.

    Its stdout and stderr (audit lines, uvicorn and limiter logs) go to one log file.
    """

    def __init__(self, env: dict[str, str], log_path: Path, workers: int = 1) -> None:
        self.port = _free_port()
        self.log_path = log_path
        self._log = log_path.open("wb")
        command = [str(DCC_BIN), "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        self.process = subprocess.Popen(
            [*command, "--workers", str(workers)],
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: close() reaches every worker
        )

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def alive(self) -> bool:
        """Whether the server process still runs."""
        return self.process.poll() is None

    def wait_ready(self, timeout: float = _SERVE_START_TIMEOUT) -> None:
        """Wait until ``/healthz`` answers 200 (fails with the log if the process exits)."""
        deadline = time.monotonic() + timeout
        with httpx.Client(base_url=self.url, timeout=1.0) as client:
            while True:
                try:
                    if client.get("/healthz").status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                if not self.alive or time.monotonic() > deadline:
                    raise RuntimeError(f"dcc serve did not start:\n{self.log()}")
                time.sleep(0.05)

    def worker_pids(self) -> set[int]:
        """The pids of the worker processes (children of the supervisor; empty with one)."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            pids = {int(pid) for pid in children.read_text().split()}
        except OSError:
            return set()
        return {pid for pid in pids if b"spawn_main" in _cmdline(pid)}  # not the resource tracker

    def log(self) -> str:
        """Everything the server wrote so far."""
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def close(self) -> None:
        """SIGTERM the process group, SIGKILL it if it has not exited within 10 s (once)."""
        if self._log.closed:
            return
        if self.alive:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)
        with contextlib.suppress(ProcessLookupError):  # workers left behind by a crash
            os.killpg(self.process.pid, signal.SIGKILL)
        self._log.close()


@dataclass(frozen=True)
class Deployment:
    """Keys and a database in tmp_path, and the environment ``dcc serve`` reads."""

    env: dict[str, str]
    database_url: str

    def with_env(self, **variables: str) -> dict[str, str]:
        """The environment plus ``DCC_<NAME>`` variables (``redis_url="..."``)."""
        return {**self.env, **{f"DCC_{name.upper()}": value for name, value in variables.items()}}


@pytest.fixture
def deployment(session_keys: Path, tmp_path: Path) -> Deployment:
    """A deployment for ``dcc serve`` subprocesses: no ``DCC_*`` from the caller leaks in."""
    database = migrated_sqlite(tmp_path)
    env = {name: value for name, value in os.environ.items() if not name.startswith("DCC_")}
    env.update(DCC_KEYS_DIR=str(session_keys), DCC_DATABASE_URL=database)
    return Deployment(env, database)


ServeFactory = Callable[..., DccServer]


@pytest.fixture
def start_dcc_serve(tmp_path: Path) -> Iterator[ServeFactory]:
    """Start ``dcc serve`` subprocesses (``start(env, workers=1)``, then ``wait_ready()``);
    every one is stopped at teardown, whatever the test did."""
    started: list[DccServer] = []

    def start(env: dict[str, str], *, workers: int = 1) -> DccServer:
        server = DccServer(env, tmp_path / f"serve-{len(started)}.log", workers)
        started.append(server)
        return server

    try:
        yield start
    finally:
        for server in started:
            server.close()
