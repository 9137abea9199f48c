"""``GET /v1/trust-list``: the DSCs this service signs with, as DCCG-style JSON entries.

A verifier that trusts this list alone accepts every certificate the service issues. The
body is rendered once at start-up (the keys do not change while the process runs).
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from api.deps import ResourcesDep
from api.routes.schemas import TrustListEntry, problems

__all__ = ["router"]

router = APIRouter(tags=["verification"])


@router.get(
    "/v1/trust-list",
    summary="The trust list (DSC certificates)",
    response_class=Response,
    responses={
        200: {"model": list[TrustListEntry], "description": "the trust list"},
        **problems(500),
    },
)
async def trust_list(resources: ResourcesDep) -> Response:
    """The DSC certificates as ``[{kid, country, certificateType, thumbprint, …, rawData}]``."""
    return Response(
        resources.trust_list_json,
        200,
        {"Cache-Control": "public, max-age=300"},
        media_type="application/json",
    )
