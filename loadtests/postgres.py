"""A PostgreSQL server of its own on a free loopback port, for tests and benchmarks.

Debian's binaries (``postgresql`` package: ``/usr/lib/postgresql/<version>/bin``) make a
fresh cluster in a temporary folder with ``initdb`` (trust authentication, loopback only)
and run it in its own process group, so a test can stop it, kill it (SIGKILL) or freeze it
(SIGSTOP to every process of the cluster) and bring it back. PostgreSQL refuses to run as
root, so under root the cluster belongs to the ``postgres`` system user the package made.
Nothing here touches the machine's own PostgreSQL.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Final, Self

__all__ = ["PostgresServer", "find_postgres_bin"]

_START_TIMEOUT: Final = 60.0
_DATABASE: Final = "dcc"


def find_postgres_bin() -> Path | None:
    """The folder of Debian's ``initdb`` and ``postgres`` (newest version), or None."""
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda path: int(path.parent.parent.name) if path.parent.parent.name.isdigit() else 0,
    )
    if candidates:
        return candidates[-1].parent
    found = shutil.which("initdb")
    return Path(found).parent if found else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class PostgresServer:
    """One throw-away PostgreSQL cluster with a database ``dcc``."""

    def __init__(self, *, bin_dir: Path | None = None, fsync: bool = True) -> None:
        found = bin_dir or find_postgres_bin()
        if found is None:
            raise FileNotFoundError("PostgreSQL binaries not found (Debian package postgresql)")
        self._bin = found
        self._fsync = fsync
        self._user = "postgres" if os.geteuid() == 0 else None
        self.root = Path(tempfile.mkdtemp(prefix="dcc-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self._process: subprocess.Popen[bytes] | None = None
        self._log = self.root / "postgres.log"
        if self._user is not None:
            entry = pwd.getpwnam(self._user)
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
        self._run(
            [str(self._bin / "initdb"), "-D", str(self.data), "-U", "postgres",
             "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C"],
        )  # fmt: skip

    @property
    def url(self) -> str:
        """``postgresql://postgres@127.0.0.1:<port>/dcc``."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/{_DATABASE}"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def _run(self, argv: list[str]) -> None:
        subprocess.run(  # noqa: S603 (Debian's PostgreSQL binaries, our arguments)
            argv, check=True, capture_output=True, user=self._user, cwd=self.root, timeout=120
        )

    def start(self) -> None:
        """Start the cluster and wait until it accepts connections (creates ``dcc`` once)."""
        assert not self.running, "postgres already running"
        log = self._log.open("ab")
        self._process = subprocess.Popen(  # noqa: S603
            [str(self._bin / "postgres"), "-D", str(self.data), "-p", str(self.port),
             "-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={self.root}",
             "-c", f"fsync={'on' if self._fsync else 'off'}", "-c", "max_connections=200"],
            stdout=log, stderr=subprocess.STDOUT, user=self._user, start_new_session=True,
        )  # fmt: skip
        log.close()
        deadline = time.monotonic() + _START_TIMEOUT
        while not self._ready():
            if self._process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"postgres did not start: see {self._log}")
            time.sleep(0.05)
        if not (self.root / ".created").exists():
            self._run([str(self._bin.parent / "bin" / "createdb"), "-h", str(self.root),
                       "-p", str(self.port), "-U", "postgres", _DATABASE])  # fmt: skip
            (self.root / ".created").touch()

    def _ready(self) -> bool:
        done = subprocess.run(  # noqa: S603
            [str(self._bin / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port), "-q"],
            check=False,
        )
        return done.returncode == 0

    def psql(self, sql: str) -> str:
        """Run ``sql`` on the ``dcc`` database; return psql's unaligned output."""
        done = subprocess.run(  # noqa: S603
            [str(self._bin / "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
             "-d", _DATABASE, "-At", "-v", "ON_ERROR_STOP=1", "-c", sql],
            check=True, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        return done.stdout.strip()

    def _signal_all(self, signum: int) -> None:
        assert self._process is not None
        os.killpg(self._process.pid, signum)

    def stop(self) -> None:
        """Fast shutdown (SIGINT) and wait; a no-op when not running."""
        if self.running:
            assert self._process is not None
            self._process.send_signal(signal.SIGINT)
            self._process.wait(timeout=60)
        self._process = None

    def kill(self) -> None:
        """SIGKILL to every process of the cluster (a crash)."""
        if self.running:
            self._signal_all(signal.SIGKILL)
            assert self._process is not None
            self._process.wait(timeout=60)
        self._process = None
        (self.data / "postmaster.pid").unlink(missing_ok=True)

    def pause(self) -> None:
        """Freeze every process of the cluster (SIGSTOP): connections hang, nothing answers."""
        self._signal_all(signal.SIGSTOP)

    def resume(self) -> None:
        """Undo :meth:`pause`."""
        self._signal_all(signal.SIGCONT)

    def close(self) -> None:
        """Stop the server and delete its files."""
        if self.running:
            self.resume()
            self.kill()
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
