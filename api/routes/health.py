"""``GET /healthz`` (liveness) and ``GET /readyz`` (readiness).

Liveness says the process answers. Readiness says it can do its work: the DSC is within
its validity period, the database answers (``SELECT 1``), and the rate limiter's store
answers (Redis ``PING`` when ``DCC_REDIS_URL`` is set); otherwise 503, with the limiter's
backend and state in the body.
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from api.deps import ResourcesDep
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
        200: {"model": Readiness, "description": "ready"},
        503: {"model": Readiness, "description": "not ready"},
        **problems(500),
    },
)
async def readyz(resources: ResourcesDep) -> Response:
    """``ready`` (200) when an active DSC is valid now and the limiter answers, else 503."""
    active = resources.runtime.keyring.active(None)
    now = resources.clock()
    checks = {
        "keys": active is not None and active.keys.not_before <= now < active.keys.not_after,
        "store": await resources.store.healthy(),
        "limiter": await resources.issue_limiter.healthy(),
    }
    ready = all(checks.values())
    body = {
        "status": "ready" if ready else "not-ready",
        "checks": checks,
        "limiter": {"backend": resources.limiter_backend, "state": resources.limiter_state()},
    }
    return json_response(body, 200 if ready else 503)
