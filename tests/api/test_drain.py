"""Graceful drain of a real ``dcc serve``: on SIGTERM it stops accepting, finishes the
request in flight, then exits (within ``DCC_DRAIN_SECONDS``)."""

from __future__ import annotations

import json
import signal
import socket
from typing import TYPE_CHECKING, Any

import pytest

from tests.accounts import add_account
from tests.waiting import wait_until

if TYPE_CHECKING:
    from conftest import Deployment, ServeFactory


def refuses_connections(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return False
    except OSError:
        return True


@pytest.mark.slow
def test_sigterm_stops_accepting_and_finishes_the_request_in_flight(
    deployment: Deployment, start_dcc_serve: ServeFactory, make_request: Any
) -> None:
    created = add_account(deployment.database_url, name="pharmacy", role="pharmacist")
    server = start_dcc_serve(deployment.with_env(drain_seconds="10"))
    server.wait_ready()
    body = json.dumps(make_request()).encode()
    head = (
        f"POST /v1/certificates HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer {created.api_key}\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as conn:
        conn.sendall(head + body[:10])  # the request is in flight: its body is still coming
        server.process.send_signal(signal.SIGTERM)
        wait_until(lambda: refuses_connections(server.port), what="the socket closed")
        assert server.alive  # still draining: the request in flight holds it
        conn.sendall(body[10:])
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 201 "), answer[:200]
    # A clean exit: uvicorn re-raises the signal it handled once it has drained.
    assert server.process.wait(timeout=15) in (0, -signal.SIGTERM)
    assert "Traceback" not in server.log()
