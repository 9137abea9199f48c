"""``GET /healthz`` (liveness) and ``GET /readyz`` (readiness).

Liveness says the process answers. Readiness says whether this replica can do its work
(:mod:`api.readiness`): 200 ``ready`` or ``degraded`` (Redis down, quotas decided locally
under ``degrade``), 503 ``not-ready`` (keys invalid, database down, or issuance failing
closed), with the limiter's backend, state and policy in the body.
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from api.deps import ResourcesDep
from api.readiness import assess
from api.responses import json_response
from api.routes.schemas import Health, Readiness, problems

__all__ = ["router"]

router = APIRouter(tags=["operations"])


@router.get(
    "/healthz",
    summary="Liveness",
    response_class=Response,
    responses={200: {"model": Health, "description": "alive"}, **problems(500)},
)
async def healthz() -> Response:
    """Always ``{"status": "ok"}`` while the process serves requests."""
    return Response(b'{"status":"ok"}', 200, media_type="application/json")


@router.get(
    "/readyz",
    summary="Readiness",
    response_class=Response,
    responses={
        200: {"model": Readiness, "description": "ready, or degraded (serving on local quotas)"},
        503: {"model": Readiness, "description": "not ready"},
        **problems(500),
    },
)
async def readyz(resources: ResourcesDep) -> Response:
    """200 ``ready``/``degraded`` when this replica can serve, else 503 ``not-ready``."""
    readiness = await assess(resources)
    return json_response(readiness.body, readiness.status_code)
