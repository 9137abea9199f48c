"""The service's one pure-ASGI middleware: security headers, request latency, last-resort 500.

:class:`ServiceMiddleware` wraps every HTTP request once (one ``send`` wrapper, one frame:
it runs on every request, so three separate layers cost measurably more):

- it adds ``X-Content-Type-Options: nosniff`` and ``Referrer-Policy: no-referrer`` to every
  response, and ``Cache-Control: no-store`` to every response that does not set its own
  (certificates, reports and errors may carry personal data; only the trust list allows
  caching);
- it observes each request in ``dcc_http_request_duration_seconds`` by route template
  (never the raw path), method and status;
- it turns an unexpected exception into a generic problem+json 500 and logs its type and
  stack frames only: exception messages and request data may hold personal data, so
  neither is logged. It does not re-raise, so the server does not log the exception again.
"""

from __future__ import annotations

import logging
import time
import traceback
from typing import Final

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.metrics import Metrics
from api.problems import internal_error_response

__all__ = ["ServiceMiddleware", "route_template"]

_LOGGER = logging.getLogger("dcc.api")
_SECURITY_HEADERS: Final = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
)
_NO_STORE: Final = (b"cache-control", b"no-store")


def route_template(scope: Scope) -> str:
    """The matched route's path template (``"unmatched"`` before or without a match)."""
    return str(getattr(scope.get("route"), "path", "unmatched"))


def _with_security_headers(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    headers.extend(_SECURITY_HEADERS)
    for name, _ in headers:
        if name.lower() == b"cache-control":
            return headers
    headers.append(_NO_STORE)
    return headers


class ServiceMiddleware:
    """Security headers, the latency histogram and the catch-all 500, in one layer."""

    def __init__(self, app: ASGIApp, *, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 0

        async def send_guarded(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                message["headers"] = _with_security_headers(list(message.get("headers", ())))
            await send(message)

        try:
            await self.app(scope, receive, send_guarded)
        except Exception as exc:
            self._log_unhandled(scope, exc)
            if not status:
                await internal_error_response()(scope, receive, send_guarded)
        finally:
            metrics = self.metrics
            metrics.child(
                metrics.http_seconds, route_template(scope), scope["method"], str(status or 500)
            ).observe(time.perf_counter() - started)

    @staticmethod
    def _log_unhandled(scope: Scope, exc: Exception) -> None:
        frames = "; ".join(
            f"{frame.filename}:{frame.lineno} in {frame.name}"
            for frame in traceback.extract_tb(exc.__traceback__)
        )
        _LOGGER.error(
            "unhandled %s.%s on %s %s (message withheld); frames: %s",
            type(exc).__module__,
            type(exc).__qualname__,
            scope["method"],
            route_template(scope),
            frames,
            extra={"event": "unhandled_exception"},
        )
