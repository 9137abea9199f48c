"""The issuing service's HTTP app: :func:`create_app` (tests, embedding) and :func:`app_from_env`.

``create_app(settings)`` builds a FastAPI app whose lifespan opens the
:class:`~api.runtime.Resources` (keys, signer pool, accounts, limiters) and closes them at
shutdown; nothing is loaded at import or construction time. ``dcc serve`` runs
``uvicorn.run("api.app:app_from_env", factory=True)``, which reads ``DCC_*`` once per worker
and writes the audit lines straight to stdout. The single-issue route is mounted first, as a
plain route (:mod:`api.plain_route`); the OpenAPI document describes it like the others.
Every error is ``application/problem+json`` (:mod:`api.problems`); there is no CORS.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, Final

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic.json_schema import models_json_schema

from api.audit import AuditTrail
from api.gc_tuning import tune_gc_for_serving
from api.metrics import Metrics
from api.middleware import ServiceMiddleware
from api.pages import router as pages_router
from api.problems import install_problem_handlers
from api.proxies import TrustedProxies
from api.ratelimit import Limiter
from api.routes import DOCUMENTED_ONLY, PLAIN_ROUTES, ROUTERS
from api.routes.schemas import EXTRA_SCHEMAS
from api.runtime import Clock, open_resources
from api.settings import Settings
from signing.errors import DccError

__all__ = ["API_VERSION", "app_from_env", "create_app"]

API_VERSION: Final = "1.0.0"
_DESCRIPTION: Final = (
    "Issues EU Digital COVID Certificates for negative COVID-19 tests and verifies them. "
    "Errors are RFC 9457 problem details (application/problem+json) with a stable `code`."
)
_LOGGER = logging.getLogger("dcc.api")


def create_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    issue_limiter: Limiter | None = None,
    verify_limiter: Limiter | None = None,
    audit: AuditTrail | None = None,
    tune_gc: bool = False,
) -> FastAPI:
    """The app for ``settings``; resources open when its lifespan starts.

    ``clock`` (aware datetimes) pins the issuer's and verifier's time; the limiters replace
    the ones the settings describe. Both are for tests. ``audit`` receives the audit lines
    (default: the ``dcc.audit`` logger). ``tune_gc`` applies
    :func:`~api.gc_tuning.tune_gc_for_serving` once the resources are open (process-wide:
    for a serving worker only).
    """
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            resources = await open_resources(
                settings,
                metrics=metrics,
                clock=clock,
                issue_limiter=issue_limiter,
                verify_limiter=verify_limiter,
                audit=audit,
            )
        except DccError as error:
            _LOGGER.critical("start-up failed [%s]: %s", error.code, error.message)
            raise
        app.state.resources = resources
        if tune_gc:
            tune_gc_for_serving()
        try:
            yield
        finally:
            del app.state.resources
            await resources.close()

    app = FastAPI(
        title="dcc-service",
        version=API_VERSION,
        description=_DESCRIPTION,
        lifespan=lifespan,
        # FastAPI's own pages load Swagger UI and ReDoc from a CDN and start them with an
        # inline script; /docs is served by api.pages instead, under the pages' CSP.
        docs_url=None,
        redoc_url=None,
    )
    install_problem_handlers(app)
    app.router.routes.extend(PLAIN_ROUTES)
    for router in ROUTERS:
        app.include_router(router)
    app.include_router(pages_router)
    if settings.trusted_proxies:  # inside: the quota and the access log see the client
        app.add_middleware(TrustedProxies, networks=settings.trusted_proxies)
    app.add_middleware(ServiceMiddleware, metrics=metrics)
    app.openapi = _openapi_builder(app)  # type: ignore[method-assign]
    return app


def _openapi_builder(app: FastAPI) -> Callable[[], dict[str, Any]]:
    """FastAPI's document plus the request-body models the routes declare by reference."""

    def build() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=[*DOCUMENTED_ONLY, *app.routes],
            )
            _, extra = models_json_schema(
                [(model, "validation") for model in EXTRA_SCHEMAS],
                ref_template="#/components/schemas/{model}",
            )
            schemas = document.setdefault("components", {}).setdefault("schemas", {})
            for name, schema in extra.get("$defs", {}).items():
                schemas.setdefault(name, schema)
            app.openapi_schema = document
        return app.openapi_schema

    return build


def app_from_env() -> FastAPI:
    """The app configured from ``DCC_*`` (read once; the uvicorn factory of ``dcc serve``).

    Audit lines are appended to ``DCC_AUDIT_FILE``, else written straight to stdout
    (:meth:`~api.audit.AuditTrail.to_fd`; uvicorn's access log goes to stderr); the garbage
    collector is tuned for serving (:mod:`api.gc_tuning`).
    """
    settings = Settings.from_env()
    if settings.audit_file is not None:
        audit = AuditTrail.to_file(settings.audit_file)
    else:
        audit = AuditTrail.to_fd(sys.stdout.fileno())
    return create_app(settings, audit=audit, tune_gc=True)
