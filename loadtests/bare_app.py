"""The bare comparison endpoint of bench 4: the same framework and server, no work.

``POST /v1/certificates`` reads the request body and answers 201 with a constant JSON body
of a chosen size (the size of a real issue response), so the difference between it and
``dcc serve`` is exactly what the service does per request: authentication, quotas, body
parsing, validation, issuing, audit, metrics and middleware. It runs under uvicorn with
the settings ``dcc serve`` uses, read from :func:`api.server.uvicorn_options` (factory
app, workers, no proxy headers, no server header, the same logging configuration).

With ``--plain`` the endpoint is mounted the way ``dcc serve`` mounts its single-issue route
(:class:`api.plain_route.PlainRoute`, outside FastAPI's request handling): a second,
informational baseline showing what that route kind costs with no work at all.

Run: ``.venv/bin/python -m loadtests.bare_app --port P [--workers N] [--response-bytes B]
[--plain]``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Final

import uvicorn
from fastapi import FastAPI, Request
from starlette.responses import Response

from api.plain_route import PlainRoute
from api.server import uvicorn_options

__all__ = ["PLAIN_ENV", "RESPONSE_BYTES_ENV", "constant_body", "create_bare_app", "main"]

RESPONSE_BYTES_ENV: Final = "DCC_BARE_RESPONSE_BYTES"
PLAIN_ENV: Final = "DCC_BARE_PLAIN"
_DEFAULT_BYTES: Final = 1200
_PREFIX: Final = b'{"uvci":"bare","padding":"'
_SUFFIX: Final = b'"}'


def constant_body(size: int) -> bytes:
    """A valid JSON object of exactly ``size`` bytes (at least the bare minimum)."""
    padding = max(0, size - len(_PREFIX) - len(_SUFFIX))
    return _PREFIX + b"x" * padding + _SUFFIX


def create_bare_app() -> FastAPI:
    """The bare app; the response size comes from ``DCC_BARE_RESPONSE_BYTES``, the route kind
    from ``DCC_BARE_PLAIN`` (``1``: a plain route, else a FastAPI route)."""
    body = constant_body(int(os.environ.get(RESPONSE_BYTES_ENV, _DEFAULT_BYTES)))
    app = FastAPI(title="bare", openapi_url=None, docs_url=None, redoc_url=None)

    async def issue(request: Request) -> Response:
        await request.body()
        return Response(body, 201, media_type="application/json")

    if os.environ.get(PLAIN_ENV) == "1":
        app.router.routes.append(PlainRoute("/v1/certificates", issue, methods=["POST"]))
    else:
        app.post("/v1/certificates", status_code=201, response_class=Response)(issue)

    @app.get("/healthz", response_class=Response)
    async def healthz() -> Response:
        return Response(b'{"status":"ok"}', 200, media_type="application/json")

    return app


def main(argv: Sequence[str] | None = None) -> int:
    """Serve the bare app on loopback with ``dcc serve``'s uvicorn settings."""
    parser = argparse.ArgumentParser(description="bare FastAPI endpoint for bench 4")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--response-bytes", type=int, default=_DEFAULT_BYTES)
    parser.add_argument("--log-level", default="warning")
    parser.add_argument("--plain", action="store_true", help="mount it as dcc's plain route")
    args = parser.parse_args(argv)
    os.environ[RESPONSE_BYTES_ENV] = str(args.response_bytes)
    os.environ[PLAIN_ENV] = "1" if args.plain else "0"
    uvicorn.run(
        "loadtests.bare_app:create_bare_app",
        **uvicorn_options(
            host=args.host, port=args.port, workers=args.workers, log_level=args.log_level
        ),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
