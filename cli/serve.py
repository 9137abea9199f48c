"""``dcc serve [--host] [--port] [--workers N] [--server NAME]``: the HTTP service.

The ASGI server is :data:`api.server.DEFAULT_SERVER` unless ``--server`` names another of
:data:`api.server.SERVERS` (uvicorn, granian, hypercorn); :mod:`api.server` holds each one's
options. Before the server starts, the parent process checks the deployment once (settings, keys,
the database and its schema revision, Redis URL syntax), so a bad one stops with one line
``dcc: error: …`` and exit code 2 instead of N workers failing. Each worker then builds its app with
:func:`api.app.app_from_env` (``factory=True``), which reads ``DCC_*`` once. Proxy headers
are off: the verify quota keys on the socket peer, never on ``X-Forwarded-For``.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from api.issuing_runtime import build_issuing_runtime
from api.ratelimit.factory import create_redis_client
from api.server import DEFAULT_SERVER, SERVERS, ServeOptions, run_server
from api.settings import Settings
from api.trust_lists import ImportedTrustLists
from keys.kid import kid_b64
from signing.errors import ConfigError
from store import Store

__all__ = ["check_deployment", "register"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    serve = subparsers.add_parser(
        "serve",
        help="run the HTTP service",
        description="Check settings and keys, then serve the API with an ASGI server.",
    )
    serve.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="TCP port (default 8000)")
    serve.add_argument(
        "--workers", type=int, default=1, help="worker processes (default 1; ~1 per core)"
    )
    serve.add_argument(
        "--log-level", default="info", choices=("critical", "error", "warning", "info", "debug")
    )
    serve.add_argument(
        "--server",
        default=DEFAULT_SERVER,
        choices=SERVERS,
        help=f"ASGI server (default {DEFAULT_SERVER})",
    )
    serve.set_defaults(handler=run_serve)


def check_deployment(settings: Settings) -> str:
    """Load what the workers will load; return a one-line summary or raise DccError."""
    runtime = build_issuing_runtime(settings)
    store = Store.open(settings.database_url)

    async def count_accounts() -> int:
        try:
            await store.check_schema()
            return len(await store.accounts.list())
        finally:
            await store.close()

    accounts = asyncio.run(count_accounts())
    quotas = "in-process (one machine)"
    if settings.redis_url:
        try:
            create_redis_client(settings.redis_url)
        except ValueError as exc:
            raise ConfigError(
                f"DCC_REDIS_URL is not usable: {exc}", code="redis_url_invalid"
            ) from exc
        quotas = f"shared through Redis (policy {settings.ratelimit_failure})"
    keys = runtime.keys
    trust = ImportedTrustLists.open(settings).store  # a bad list stops here, with one line
    return (
        f"keys OK (kid {kid_b64(keys.kid)}, DSC valid until {keys.not_after:%Y-%m-%d}); "
        f"{accounts} account(s) in {store.shown_url}; quotas {quotas}; "
        f"{len(trust.sources)} imported trust list(s), {len(trust)} DSCs"
    )


def run_serve(args: argparse.Namespace) -> int:
    if not 0 < args.port < 65536 or args.workers < 1:
        raise ConfigError("--port must be 1-65535 and --workers at least 1", code="serve_usage")
    settings = Settings.from_env()
    summary = check_deployment(settings)
    print(f"dcc serve: {summary}", flush=True)
    if args.workers > 1 and not settings.redis_url:
        print(
            f"dcc serve: warning: without DCC_REDIS_URL each of the {args.workers} workers keeps "
            f"its own quotas, so every rate limit applies {args.workers} times over",
            file=sys.stderr,
            flush=True,
        )
    options = ServeOptions(
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level=args.log_level,
        drain_seconds=settings.drain_seconds,
    )
    run_server(args.server, options)
    return 0
