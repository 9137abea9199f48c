"""The HTTP routes, one module per area, as ``create_app`` mounts them.

:data:`PLAIN_ROUTES` come first (plain ASGI routes, :mod:`api.plain_route`), then the FastAPI
:data:`ROUTERS`; :data:`DOCUMENTED_ONLY` describes the plain routes in the OpenAPI document.
"""

from __future__ import annotations

from typing import Final

from fastapi import APIRouter
from fastapi.routing import APIRoute

from api.plain_route import PlainRoute
from api.routes import (
    certificates,
    devices,
    health,
    login,
    metrics,
    names,
    register,
    reissue,
    render,
    revocations,
    trust,
    verify,
)

__all__ = ["DOCUMENTED_ONLY", "PLAIN_ROUTES", "ROUTERS"]

PLAIN_ROUTES: Final[tuple[PlainRoute, ...]] = (certificates.ISSUE_ROUTE,)
DOCUMENTED_ONLY: Final[tuple[APIRoute, ...]] = tuple(route.documentation for route in PLAIN_ROUTES)

ROUTERS: Final[tuple[APIRouter, ...]] = (
    certificates.router,
    render.router,
    verify.router,
    devices.router,
    names.router,
    trust.router,
    health.router,
    metrics.router,
    login.router,
    register.router,
    revocations.router,
    reissue.router,
)
