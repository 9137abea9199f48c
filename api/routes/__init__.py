"""The HTTP routes, one module per area, as ``create_app`` mounts them.

:data:`PLAIN_ROUTES` come first (plain ASGI routes, :mod:`api.endpoint`), then the FastAPI
:data:`ROUTERS`; :data:`DOCUMENTED_ONLY` describes the plain routes in the OpenAPI document.
"""

from __future__ import annotations

from typing import Final

from fastapi import APIRouter
from fastapi.routing import APIRoute

from api.endpoint import PlainRoute
from api.routes import certificates, health, metrics, trust, verify

__all__ = ["DOCUMENTED_ONLY", "PLAIN_ROUTES", "ROUTERS"]

PLAIN_ROUTES: Final[tuple[PlainRoute, ...]] = (certificates.ISSUE_ROUTE,)
DOCUMENTED_ONLY: Final[tuple[APIRoute, ...]] = tuple(route.documentation for route in PLAIN_ROUTES)

ROUTERS: Final[tuple[APIRouter, ...]] = (
    certificates.router,
    verify.router,
    trust.router,
    health.router,
    metrics.router,
)
