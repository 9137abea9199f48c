"""``GET /v1/trust-list``: the DSCs this service signs with, as DCCG-style JSON entries.

A verifier that trusts this list alone accepts every certificate the service issued that is
still valid. The bodies are rendered again at every key change (the key ring's listener in
api/runtime.py), not per request. ``/v1/trust-list.cose`` is the same list signed by the CSCA.
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from api.deps import ResourcesDep
from api.problems import problem_response
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


@router.get(
    "/v1/trust-list.cose",
    summary="The trust list signed by the CSCA (COSE_Sign1 over CBOR)",
    response_class=Response,
    responses={
        200: {
            "content": {"application/cose": {}},
            "description": "COSE_Sign1 over {iss, iat, exp, dscs: [{kid, cert}]}",
        },
        **problems(404, 500),
    },
)
async def signed_trust_list(resources: ResourcesDep) -> Response:
    """The same DSCs as ``/v1/trust-list``, signed by the CSCA with an expiry."""
    body = resources.trust_list_cose
    if body is None:
        return problem_response(
            404, "not_found", "this replica holds no CSCA key: it serves no signed trust list"
        )
    return Response(
        body,
        200,
        {"Cache-Control": "public, max-age=300"},
        media_type="application/cose; cose-type=cose-sign1",
    )
