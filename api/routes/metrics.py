"""``GET /metrics``: this app's Prometheus metrics (bind or protect it in deployment)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from api.deps import ResourcesDep
from api.metrics import CONTENT_TYPE_LATEST
from api.routes.schemas import problems

__all__ = ["router"]

router = APIRouter(tags=["operations"])


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={
        200: {
            "description": "Prometheus text exposition format",
            "content": {CONTENT_TYPE_LATEST.split(";")[0]: {"schema": {"type": "string"}}},
        },
        **problems(500),
    },
)
async def metrics(resources: ResourcesDep) -> Response:
    """The text exposition of the app's registry."""
    return Response(resources.metrics.render(), 200, media_type=CONTENT_TYPE_LATEST)
