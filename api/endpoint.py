"""Plain ASGI routes for the hottest endpoints: :func:`plain_route`.

FastAPI's request handling (its routing layers, dependency solving, body and response
handling) costs ~55 µs per request on this project's 2-core box, more than the ECDSA
signature of a certificate (BENCHMARKS.md §4). The single-issue route, which a surge hits
hardest, therefore runs as a plain Starlette :class:`~starlette.routing.Route` whose
endpoint is an ASGI app: the handler takes a :class:`~starlette.requests.Request` and
returns a :class:`~starlette.responses.Response`, like a FastAPI handler without
dependencies, and a :class:`~signing.errors.DccError` it raises is answered by
:func:`api.problems.answer_dcc_error`, exactly as the app's exception handler answers it
elsewhere. Everything else (the middleware, the 404/405 answers, the lifespan resources) is
shared with the FastAPI app. The OpenAPI document still describes the route: pass the
FastAPI :class:`~fastapi.routing.APIRoute` built by :func:`documented_route` to the
document builder.
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

__all__ = ["Handler", "PlainEndpoint", "documented_route", "plain_route"]

Handler = Callable[[Request], Awaitable[Response]]


class PlainEndpoint:
    """The ASGI app of one plain route: ``handler(request)``, DccError → problem+json."""

    __slots__ = ("_handler", "_path", "route")

    def __init__(self, handler: Handler, path: str) -> None:
        self._handler = handler
        self._path = path
        self.route: Route | None = None
        """The route serving this endpoint; put in ``scope["route"]`` for the middleware's
        route label, as FastAPI's router does for its own routes."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope.setdefault("route", self.route)
        request = Request(scope, receive, send)
        try:
            response = await self._handler(request)
        except DccError as error:
            response = answer_dcc_error(error, scope["method"], self._path)
        await response(scope, receive, send)


def plain_route(path: str, handler: Handler, *, methods: Sequence[str]) -> Route:
    """A Starlette route serving ``handler`` at ``path`` through :class:`PlainEndpoint`."""
    endpoint = PlainEndpoint(handler, path)
    endpoint.route = Route(path, endpoint, methods=list(methods))
    return endpoint.route


def documented_route(
    path: str, handler: Handler, *, methods: Sequence[str], **doc: Any
) -> APIRoute:
    """The FastAPI route that documents ``handler`` (never mounted: OpenAPI only)."""
    return APIRoute(path, handler, methods=list(methods), **doc)
