"""``dcc serve`` bounds request headers and slow clients; its access log holds paths only.

Raw sockets against a real ``dcc serve`` subprocess (uvicorn, one worker). The deadlines
are the protocol's class attributes, shortened for the test by the command that starts the
server (10 s / 30 s in production: api/server_limits.py); sizes and counts are the real
limits. Every wait is for the server's answer or for its log, never a fixed delay.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from api.server_limits import MAX_HEADER_BYTES, MAX_HEADERS
from tests.accounts import migrated_sqlite
from tests.waiting import wait_until

HEADER_TIMEOUT = 0.5
BODY_TIMEOUT = 1.0
_STARTER = (
    "import sys\n"
    "from api.server_limits import LimitedHttpToolsProtocol as P\n"
    f"P.header_timeout, P.body_timeout = {HEADER_TIMEOUT}, {BODY_TIMEOUT}\n"
    "from cli import main\n"
    "sys.exit(main())\n"
)


class Served:
    def __init__(self, port: int, log: Path, process: subprocess.Popen[bytes]) -> None:
        self.port, self.log_path, self.process = port, log, process

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def connect(self) -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=15)
        return sock

    def exchange(self, data: bytes, *, close_write: bool = False) -> bytes:
        """Send ``data``, then read until the server closes the connection."""
        with self.connect() as sock:
            sock.sendall(data)
            if close_write:
                sock.shutdown(socket.SHUT_WR)
            return read_all(sock)


def read_all(sock: socket.socket) -> bytes:
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _serve(folder: Path, session_keys: Path, starter: str, *options: str) -> Iterator[Served]:
    """``dcc serve`` (run by ``starter``) on a free port until the generator is closed."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("DCC_")}
    env.update(
        DCC_KEYS_DIR=str(session_keys), DCC_DATABASE_URL=migrated_sqlite(folder), DCC_REDIS_URL=""
    )
    port, log = _free_port(), folder / "serve.log"
    argv = ["serve", "--host", "127.0.0.1", "--port", str(port), *options]
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-c", starter, *argv], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    server = Served(port, log, process)

    def healthy() -> bool:
        assert process.poll() is None, server.log()
        try:
            return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    try:
        wait_until(
            healthy,
            what=lambda: f"dcc serve {options} answering /healthz:\n{server.log()}",
            timeout=60,
        )
        yield server
    finally:
        process.terminate()
        process.wait(timeout=15)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, session_keys: Path) -> Iterator[Served]:
    yield from _serve(tmp_path_factory.mktemp("served"), session_keys, _STARTER)


def status_of(answer: bytes) -> int:
    assert answer.startswith(b"HTTP/1.1 "), answer[:200]
    return int(answer[9:12])


def get(path: str, *headers: bytes) -> bytes:
    return b"GET " + path.encode() + b" HTTP/1.1\r\nHost: x\r\n" + b"".join(headers) + b"\r\n"


pytestmark = pytest.mark.slow


def _send_a_64_mib_header(sock: socket.socket) -> int:
    """Send a request whose one header grows to 64 MiB; the bytes of it sent before the
    server refused and closed the connection."""
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ")
    sent = 0
    try:
        while sent < 64 * 1024 * 1024:
            sock.sendall(b"a" * 65536)
            sent += 65536
    except (BrokenPipeError, ConnectionResetError):
        pass  # refused and closed long before 64 MiB
    return sent


def test_a_64_mib_header_is_431_and_the_server_keeps_serving(served: Served) -> None:
    with served.connect() as sock:
        sent = _send_a_64_mib_header(sock)
        answer = read_all(sock)
    assert status_of(answer) == 431
    assert b"connection: close" in answer.lower()
    assert sent < 4 * 1024 * 1024
    assert httpx.get(f"http://127.0.0.1:{served.port}/healthz").status_code == 200


def test_headers_just_under_the_limit_are_served(served: Served) -> None:
    filler = b"X-Filler: " + b"a" * (MAX_HEADER_BYTES - 200) + b"\r\n"
    answer = served.exchange(get("/healthz", filler, b"Connection: close\r\n"))
    assert status_of(answer) == 200


def test_too_many_header_fields_are_431(served: Served) -> None:
    fields = [b"X-F%d: 1\r\n" % index for index in range(MAX_HEADERS + 1)]
    assert status_of(served.exchange(get("/healthz", *fields))) == 431
    enough = [b"X-F%d: 1\r\n" % index for index in range(MAX_HEADERS - 2)]
    assert status_of(served.exchange(get("/healthz", *enough, b"Connection: close\r\n"))) == 200


def test_a_client_that_sends_nothing_or_half_its_headers_gets_408(served: Served) -> None:
    with served.connect() as sock:  # nothing at all
        assert status_of(read_all(sock)) == 408
    with served.connect() as sock:  # a byte, then silence
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHo")
        answer = read_all(sock)
    assert status_of(answer) == 408
    assert b"connection: close" in answer.lower()


def test_a_body_that_does_not_arrive_is_408(served: Served) -> None:
    with served.connect() as sock:
        sock.sendall(
            b"POST /v1/verify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b'Content-Length: 100\r\n\r\n{"hc1": '
        )
        answer = read_all(sock)
    assert status_of(answer) == 408


def test_a_kept_alive_connection_gets_fresh_deadlines(served: Served) -> None:
    with served.connect() as sock:
        sock.sendall(get("/healthz"))
        first = b""
        while not first.endswith(b'{"status":"ok"}'):
            first += sock.recv(65536)
        assert status_of(first) == 200
        sock.sendall(get("/healthz", b"Connection: close\r\n"))
        assert status_of(read_all(sock)) == 200


def test_a_large_body_sent_with_its_headers_is_not_mistaken_for_headers(served: Served) -> None:
    body = b"\x89PNG\r\n\x1a\n" + bytes(MAX_HEADER_BYTES * 8)
    head = (
        b"POST /v1/verify HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\n"
        b"Connection: close\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n"
    )
    assert status_of(served.exchange(head + body)) == 200


def test_the_access_log_holds_paths_never_query_strings(served: Served) -> None:
    secret = "dcc_" + "S3cr3tK3y" * 4
    answer = served.exchange(
        b"POST /v1/certificates?api_key=" + secret.encode() + b"&x=1 HTTP/1.1\r\nHost: x\r\n"
        b"Content-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}"
    )
    assert status_of(answer) == 401
    wait_until(
        lambda: '"POST /v1/certificates HTTP/1.1" 401' in served.log(),
        what=lambda: f"the access line of the refused request:\n{served.log()[-2000:]}",
    )
    log = served.log()
    assert secret not in log
    assert "api_key" not in log


@pytest.fixture(scope="module", params=["granian", "hypercorn"])
def other_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, session_keys: Path
) -> Iterator[Served]:
    """``dcc serve --server granian|hypercorn`` (their own knobs for the same bounds)."""
    name: str = request.param
    folder = tmp_path_factory.mktemp(f"served-{name}")
    starter = "import sys\nfrom cli import main\nsys.exit(main())"
    yield from _serve(folder, session_keys, starter, "--server", name)


def test_other_servers_refuse_an_oversized_header_and_keep_serving(other_server: Served) -> None:
    """granian and hypercorn answer an oversized header with an error (or close) after at
    most a few of its megabytes, never a 200, and go on serving."""
    with other_server.connect() as sock:
        sent = _send_a_64_mib_header(sock)
        try:
            answer = read_all(sock)
        except ConnectionResetError:
            answer = b""
    assert not answer.startswith(b"HTTP/1.1 200"), answer[:200]
    assert answer == b"" or status_of(answer) in (400, 413, 431), answer[:200]
    assert sent < 4 * 1024 * 1024
    assert httpx.get(f"http://127.0.0.1:{other_server.port}/healthz").status_code == 200
