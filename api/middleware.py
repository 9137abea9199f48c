"""Pure ASGI middleware: security headers, request latency, and the last-resort 500.

- :class:`SecurityHeadersMiddleware` adds ``X-Content-Type-Options: nosniff`` and
  ``Referrer-Policy: no-referrer`` to every response, and ``Cache-Control: no-store`` to
  every response that does not set its own (certificates, reports and errors may carry
  personal data; only the trust list allows caching).
- :class:`LatencyMiddleware` observes each request in ``dcc_http_request_duration_seconds``
  by route template (never the raw path), method and status.
- :class:`CatchAllMiddleware` turns an unexpected exception into a generic problem+json 500
  and logs its type and stack frames only: exception messages and request data may hold
  personal data, so neither is logged. It does not re-raise, so the server does not log
  the exception again.
"""

from __future__ import annotations

import logging
import time
import traceback
from typing import Final

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.metrics import Metrics
from api.problems import internal_error_response

__all__ = ["CatchAllMiddleware", "LatencyMiddleware", "SecurityHeadersMiddleware"]

_LOGGER = logging.getLogger("dcc.api")
_SECURITY_HEADERS: Final = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
)


class SecurityHeadersMiddleware:
    """Adds the security headers (and a default ``Cache-Control: no-store``)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.extend(_SECURITY_HEADERS)
                if not any(name.lower() == b"cache-control" for name, _ in headers):
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


class LatencyMiddleware:
    """Times every HTTP request into the app's latency histogram."""

    def __init__(self, app: ASGIApp, *, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_recording(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_recording)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")
            metrics = self.metrics
            metrics.child(metrics.http_seconds, route, scope["method"], str(status)).observe(
                time.perf_counter() - started
            )


class CatchAllMiddleware:
    """Answers a generic 500 problem for any exception nothing else handled."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_tracking(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, send_tracking)
        except Exception as exc:
            route = getattr(scope.get("route"), "path", "unmatched")
            frames = "; ".join(
                f"{frame.filename}:{frame.lineno} in {frame.name}"
                for frame in traceback.extract_tb(exc.__traceback__)
            )
            _LOGGER.error(
                "unhandled %s.%s on %s %s (message withheld); frames: %s",
                type(exc).__module__,
                type(exc).__qualname__,
                scope["method"],
                route,
                frames,
                extra={"event": "unhandled_exception"},
            )
            if not started:
                await internal_error_response()(scope, receive, send)
