"""``GET /v1/register/{uvci}``: the register row of a certificate the caller's organisation
issued (identifiers, times, channel, member subject, revocation hashes; nothing personal)."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter, Request
from starlette.responses import Response

from api.deps import AccountDep, resources_of
from api.responses import NO_STORE, json_response
from api.scope import own_register_row

__all__ = ["router"]

router = APIRouter(prefix="/v1", include_in_schema=False)


@router.get("/register/{uvci:path}", summary="The register row of one of your certificates")
async def register_row(uvci: str, request: Request, account: AccountDep) -> Response:
    record = await own_register_row(resources_of(request), account, uvci)
    return json_response(asdict(record), 200, NO_STORE)
