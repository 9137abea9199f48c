"""A real ``redis-server`` for the rate-limit tests, and the reference GCRA model.

:class:`RedisServer` runs Debian's ``redis-server`` on a free loopback port in a temp dir
(no persistence, ``DEBUG`` allowed from localhost) and injects faults: ``stop`` (SIGTERM),
``kill`` (SIGKILL), ``pause`` (SIGSTOP, SIGCONT after a delay: the server hangs while TCP
still accepts, which exercises read timeouts), ``restart`` (same port, empty script cache).
Tests skip with a reason when ``redis-server`` is not installed (``make system-deps``).

:class:`GcraModel` is the textbook virtual-scheduling GCRA (TAT and tolerance τ) with a
cost, written independently of ``api.ratelimit.memory.gcra``; both limiters must give the
same answers as this model.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis

from api.ratelimit.rate import Rate

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


@dataclass
class ModelAnswer:
    """What the model expects of one hit (durations in µs)."""

    allowed: bool
    impossible: bool
    remaining: int
    retry_after_us: int
    reset_after_us: int


class GcraModel:
    """Textbook GCRA for one key: TAT, emission interval T, tolerance τ = (burst - 1)·T.

    A hit of ``cost`` n conforms iff its last cell does: ``max(TAT, t) + (n - 1)·T - t ≤ τ``.
    ``remaining`` is counted cell by cell rather than by formula.
    """

    def __init__(self, rate: Rate) -> None:
        self.burst = rate.burst
        self.interval = rate.emission_interval_us
        self.tau = (rate.burst - 1) * self.interval
        self.tat: int | None = None

    def hit(self, now: int, cost: int) -> ModelAnswer:
        """Apply one hit at ``now`` µs and return the expected answer."""
        tat = now if self.tat is None else max(self.tat, now)
        last_cell = tat + (cost - 1) * self.interval
        impossible = cost > self.burst
        allowed = not impossible and last_cell - now <= self.tau
        if allowed:
            self.tat = tat + cost * self.interval
            tat = self.tat
        remaining = sum(1 for k in range(self.burst) if tat + k * self.interval - now <= self.tau)
        return ModelAnswer(
            allowed=allowed,
            impossible=impossible,
            remaining=remaining,
            retry_after_us=0 if allowed or impossible else last_cell - self.tau - now,
            reset_after_us=tat - now,
        )


@pytest.fixture(scope="session")
def gcra_model() -> type[GcraModel]:
    """The reference model class (a fixture because test modules cannot import conftest)."""
    return GcraModel
