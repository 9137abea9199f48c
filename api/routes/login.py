"""``/auth/*``: the pages' OpenID Connect login, session and logout (404 unless
``DCC_OIDC_ISSUER`` is set, except ``GET /auth/session`` which tells the page whether a
login exists). The logic lives in :mod:`api.login`."""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from starlette.responses import RedirectResponse, Response

from api.deps import ResourcesDep
from api.login import (
    SESSION_COOKIE,
    begin_login,
    cookie_options,
    finish_login,
    session_caller,
)
from api.problems import AuthenticationFailed, PermissionDenied
from api.responses import NO_STORE, json_response
from api.runtime import Resources

__all__ = ["router"]

_LOGGER = logging.getLogger("dcc.api")

router = APIRouter(prefix="/auth", include_in_schema=False)


def _configured(resources: Resources) -> None:
    if resources.identity is None:
        raise HTTPException(404)


@router.get("/login", summary="Start the OpenID Connect login (redirect to the provider)")
async def login(
    request: Request,
    resources: ResourcesDep,
    return_to: Annotated[str | None, Query(max_length=200)] = None,
) -> RedirectResponse:
    _configured(resources)
    url = await begin_login(resources, request, return_to)
    return RedirectResponse(url, status_code=303, headers=NO_STORE)


@router.get("/callback", summary="The provider's redirect back: open a session")
async def callback(
    request: Request,
    resources: ResourcesDep,
    code: Annotated[str, Query(max_length=2048)] = "",
    state: Annotated[str, Query(max_length=256)] = "",
    iss: Annotated[str | None, Query(max_length=512)] = None,
) -> RedirectResponse:
    """A browser arrives here: a failed login goes back to the page with ``login_error``
    (the problem's code), which the page explains; success sets the session cookie."""
    _configured(resources)
    try:
        token, return_to = await finish_login(resources, request, code, state, iss)
    except (AuthenticationFailed, PermissionDenied) as error:
        _LOGGER.info("login refused [%s]", error.code)
        return RedirectResponse(f"/?login_error={error.code}", status_code=303, headers=NO_STORE)
    response = RedirectResponse(return_to, status_code=303, headers=NO_STORE)
    response.set_cookie(SESSION_COOKIE, token, **cookie_options(resources, request))
    return response


@router.get("/session", summary="Whether a login exists here, and who is logged in")
async def session(request: Request, resources: ResourcesDep) -> Response:
    body: dict[str, Any] = {"login": resources.identity is not None, "authenticated": False}
    try:
        caller = await session_caller(resources, request)
    except AuthenticationFailed:  # the session ended: say so, forget the cookie
        response = json_response(body, 200, NO_STORE)
        response.delete_cookie(SESSION_COOKIE, **cookie_options(resources, request))
        return response
    if caller is not None:
        account = caller.account
        body.update(
            authenticated=True,
            csrf_token=caller.session.csrf_token,
            organisation={"id": account.id, "name": account.name, "kind": account.kind},
            member={"subject": account.member, "role": account.member_role},
            expires_at=caller.session.expires_at,
        )
    return json_response(body, 200, NO_STORE)


@router.post("/logout", summary="End the session (needs its X-CSRF-Token)", status_code=204)
async def logout(request: Request, resources: ResourcesDep) -> Response:
    _configured(resources)
    caller = await session_caller(resources, request)
    if caller is not None:
        await resources.store.sessions.end(caller.token)
        _LOGGER.info("logout of member %s of account %s", caller.account.member, caller.account.id)
    response = Response(status_code=204, headers=NO_STORE)
    response.delete_cookie(SESSION_COOKIE, **cookie_options(resources, request))
    return response
