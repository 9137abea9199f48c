"""Plain ASGI routes for the hottest endpoints: :class:`PlainRoute`.

FastAPI's request handling (its routing layers, dependency solving, body and response
handling) costs ~55 µs per request on this project's 2-core box, more than the ECDSA
signature of a certificate (BENCHMARKS.md §4). The single-issue route, which a surge hits
hardest, therefore runs as a plain Starlette :class:`~starlette.routing.Route` whose
endpoint is an ASGI app: the handler takes a :class:`~starlette.requests.Request` and
returns a :class:`~starlette.responses.Response`, like a FastAPI handler without
dependencies, and a :class:`~signing.errors.DccError` it raises is answered by
:func:`api.problems.answer_dcc_error`, exactly as the app's exception handler answers it
elsewhere. Everything else (the middleware, the 404/405 answers, the lifespan resources) is
shared with the FastAPI app. The OpenAPI document still describes the route: its
:attr:`PlainRoute.documentation` is a FastAPI :class:`~fastapi.routing.APIRoute` (never
mounted) for the document builder.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from api.problems import answer_dcc_error
from signing.errors import DccError

__all__ = ["Handler", "PlainRoute"]

Handler = Callable[[Request], Awaitable[Response]]


class _PlainEndpoint:
    """The ASGI app of one plain route: ``handler(request)``, DccError → problem+json."""

    __slots__ = ("_handler", "_path")

    def __init__(self, handler: Handler, path: str) -> None:
        self._handler = handler
        self._path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive, send)
        try:
            response = await self._handler(request)
        except DccError as error:
            response = answer_dcc_error(error, scope["method"], self._path)
        await response(scope, receive, send)


class PlainRoute(Route):
    """A Starlette route serving ``handler`` at ``path``, documented by :attr:`documentation`.

    ``doc`` takes FastAPI's route options for the document (summary, responses, …).
    """

    def __init__(self, path: str, handler: Handler, *, methods: Sequence[str], **doc: Any) -> None:
        super().__init__(path, _PlainEndpoint(handler, path), methods=list(methods))
        self.documentation = APIRoute(path, handler, methods=list(methods), **doc)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve, with the route in ``scope["route"]`` as FastAPI's router puts its own
        (the middleware labels latencies by its path)."""
        scope.setdefault("route", self)
        await super().handle(scope, receive, send)
