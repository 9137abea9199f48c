"""The HTTP routes, one module per area; :data:`ROUTERS` lists them for ``create_app``."""

from __future__ import annotations

from typing import Final

from fastapi import APIRouter

from api.routes import certificates, health, metrics, trust, verify

__all__ = ["ROUTERS"]

ROUTERS: Final[tuple[APIRouter, ...]] = (
    certificates.router,
    verify.router,
    trust.router,
    health.router,
    metrics.router,
)
