"""Header and slow-client limits for ``dcc serve`` under uvicorn (issue 19).

uvicorn's default HTTP protocol (httptools) bounds neither the size nor the count of
request headers, nor the time a client may take to send them or its body: one 64 MiB
header was answered 200 after 5.9 s, and a client sending a byte a second was never timed
out. :class:`LimitedHttpToolsProtocol` is uvicorn's httptools protocol with these bounds:

=====================  ==========  =====================================================
limit                  value       answer
=====================  ==========  =====================================================
request line + headers  16 KiB     431, ``connection: close`` (uvicorn's own h11 default
                                   and nginx's 2x8 KiB; our clients send < 1 KiB)
header fields           100        431 (Apache's LimitRequestFields; browsers send ~20)
time to the headers'    10 s       408, from the connection's opening or the request's
end                                first byte (a browser sends its headers in one packet)
time to the body's      30 s       408 if no response has started, else the connection
end                                is closed (an 8 MiB image needs ~2.2 Mbit/s; the
                                   pages' uploads are ~100 KB)
=====================  ==========  =====================================================

The refusal is written straight to the socket and the connection is closed; the app sees
a disconnect (``http.disconnect``) if it was reading the body. Only the httptools protocol
is covered: ``dcc serve`` selects it explicitly (:func:`api.server.uvicorn_options`).

Every request passes through these checks, so they are kept cheap: a connection's deadline
is a number that one sweep per event loop (:class:`_Deadlines`, every second at most) compares
with the clock, instead of a timer armed and cancelled twice per request, and the header
fields are counted and measured once they are all in (the byte count taken while they arrive
already bounds how many there can be).
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from typing import Final, Literal

import httptools
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

__all__ = [
    "BODY_TIMEOUT",
    "HEADER_TIMEOUT",
    "HTTP_PROTOCOL",
    "MAX_HEADERS",
    "MAX_HEADER_BYTES",
    "LimitedHttpToolsProtocol",
]

MAX_HEADER_BYTES: Final = 16 * 1024
MAX_HEADERS: Final = 100
HEADER_TIMEOUT: Final = 10.0
BODY_TIMEOUT: Final = 30.0
HTTP_PROTOCOL: Final = "api.server_limits:LimitedHttpToolsProtocol"
"""The ``http`` option of uvicorn that selects the protocol below (importable by workers)."""

_LOG: Final = logging.getLogger("uvicorn.error")
_REASONS: Final = {
    408: "request not received in time",
    431: "request header fields too large",
}


class _Refused(Exception):
    """Stops the parser inside a callback; the status is kept on the protocol."""


_Phase = Literal["headers", "body"]


class _Deadlines:
    """The connections of one event loop whose deadline may pass, swept by one timer."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.connections: set[LimitedHttpToolsProtocol] = set()
        self._timer: asyncio.TimerHandle | None = None

    def add(self, connection: LimitedHttpToolsProtocol) -> None:
        self.connections.add(connection)
        if self._timer is None:
            self._schedule(connection)

    def _schedule(self, connection: LimitedHttpToolsProtocol) -> None:
        every = min(1.0, connection.header_timeout / 4, connection.body_timeout / 4)
        self._timer = self.loop.call_later(every, self._sweep, connection)

    def _sweep(self, sample: LimitedHttpToolsProtocol) -> None:
        self._timer = None
        now = self.loop.time()
        for connection in [c for c in self.connections if c._deadline_at <= now]:
            connection._deadline_passed()
        if self.connections:
            self._schedule(sample)


_DEADLINES: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Deadlines] = (
    weakref.WeakKeyDictionary()
)
_NEVER: Final = float("inf")


class LimitedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with bounded headers and header/body deadlines."""

    # Class-level defaults, so tests may build the protocol with other limits.
    max_header_bytes: int = MAX_HEADER_BYTES
    max_headers: int = MAX_HEADERS
    header_timeout: float = HEADER_TIMEOUT
    body_timeout: float = BODY_TIMEOUT

    _deadline_at: float = _NEVER
    _phase: _Phase = "headers"
    _refused: int | None = None
    _in_headers: bool = True
    _header_bytes: int = 0

    # -- connection ---------------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        deadlines = _DEADLINES.get(self.loop)
        if deadlines is None:
            deadlines = _DEADLINES[self.loop] = _Deadlines(self.loop)
        self._deadlines = deadlines
        deadlines.add(self)
        self._start_headers()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_deadline()
        self._deadlines.connections.discard(self)
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refused is not None or self.parser is None:
            return
        self._unset_keepalive_if_required()
        if self._in_headers:
            self._header_bytes += len(data)
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
        except httptools.HttpParserError:
            if self._refused is not None:
                self._refuse(self._refused)
                return
            msg = "Invalid HTTP request received."
            self.logger.warning(msg)
            self.send_400_response(msg)
            return
        if self._in_headers and self._header_bytes > self.max_header_bytes:
            self._refuse(431)

    # -- parser callbacks ---------------------------------------------------------------

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if not self._in_headers:  # the next request on a kept-alive connection
            self._start_headers()
            self._header_bytes = 0

    def on_headers_complete(self) -> None:
        headers = self.headers
        if len(headers) > self.max_headers or (
            self._header_bytes > self.max_header_bytes  # else the headers are surely within
            and len(self.url) + sum(len(name) + len(value) + 4 for name, value in headers)
            > self.max_header_bytes
        ):
            self._refused = 431
            raise _Refused
        self._in_headers = False
        self._phase = "body"
        self._deadline_at = self.loop.time() + self.body_timeout
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._cancel_deadline()
        super().on_message_complete()

    # -- deadlines and refusals ---------------------------------------------------------

    def _start_headers(self) -> None:
        self._in_headers = True
        self._phase = "headers"
        self._deadline_at = self.loop.time() + self.header_timeout

    def _cancel_deadline(self) -> None:
        self._deadline_at = _NEVER

    def _deadline_passed(self) -> None:
        self._deadline_at = _NEVER
        if self._phase == "headers":
            self._headers_late()
        else:
            self._body_late()

    def _headers_late(self) -> None:
        if self._in_headers and not self.transport.is_closing():
            self._refuse(408)

    def _body_late(self) -> None:
        if self.transport.is_closing():
            return
        cycle = self.cycle
        if cycle is not None and cycle.response_started:
            self.transport.close()
        else:
            self._refuse(408)

    def _refuse(self, status: int) -> None:
        """Answer ``status`` with ``connection: close`` and close the connection."""
        self._refused = status
        self._cancel_deadline()
        reason = _REASONS[status]
        client = f"{self.client[0]}:{self.client[1]} - " if self.client else ""
        _LOG.warning("%s%d: %s", client, status, reason)
        body = reason.encode("ascii")
        content = [STATUS_LINE[status]]
        for name, value in self.server_state.default_headers:
            content.extend([name, b": ", value, b"\r\n"])
        content.extend(
            [
                b"content-type: text/plain; charset=utf-8\r\n",
                b"content-length: " + str(len(body)).encode("ascii") + b"\r\n",
                b"connection: close\r\n",
                b"\r\n",
                body,
            ]
        )
        self.transport.write(b"".join(content))
        self.transport.close()
