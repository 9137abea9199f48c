"""FastAPI dependencies: the lifespan resources, the caller's account, and quota charges.

Quotas (GCRA, :mod:`api.ratelimit`): issuance is charged to the account
(``pharmacist:<id>`` / ``lab:<id>`` at the account's own rate when ``dcc accounts`` set one,
else at ``DCC_RATE_PHARMACIST`` / ``DCC_RATE_LAB``) and then to the deployment (``global`` at
``DCC_RATE_GLOBAL``); a batch of N costs N cells of both.
Verification is charged to the client address (``verify:<host>``): the socket peer, or the
balancer's ``X-Forwarded-For`` hop when the peer is a trusted proxy (:mod:`api.proxies`
rewrites the ASGI client before this runs). A denied hit answers 429 with ``Retry-After`` and
the RateLimit headers; a cost no wait can satisfy (a batch larger than the burst) answers
422 ``batch_exceeds_burst``: retrying the same batch would never succeed, so 429 would
mislead. A limiter that cannot decide answers 503 (``LimiterUnavailable``).
"""

from __future__ import annotations

from typing import Annotated, Any, Final

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials

from api.accounts import Account
from api.auth import authenticate, bearer_scheme, require_role
from api.login import account_for_access_token, looks_like_jwt, session_caller
from api.problems import PermissionDenied, RateLimited
from api.ratelimit import Decision, Limiter, LimiterUnavailable, Rate, key_kind
from api.runtime import Resources
from signing.errors import FieldError, RequestInvalid
from store.accounts import ISSUING_ROLES
from store.members import ISSUING_ROLES as ISSUING_MEMBER_ROLES

__all__ = [
    "BEARER_SECURITY",
    "AccountDep",
    "LabAccountDep",
    "OperatorAccountDep",
    "ResourcesDep",
    "account_of",
    "charge_issuance",
    "charge_verification",
    "current_account",
    "get_resources",
    "lab_account",
    "operator_account",
    "resources_of",
]


def resources_of(request: Request) -> Resources:
    """The resources the lifespan opened (kept on ``app.state``)."""
    resources: Resources = request.app.state.resources
    return resources


async def get_resources(request: Request) -> Resources:
    """Dependency: the app's resources.

    Dependencies here are ``async def`` on purpose: FastAPI runs plain ``def`` dependencies
    in the thread pool, a hand-off that costs more than issuing a certificate. They are
    also kept flat (each one solved costs tens of µs).
    """
    return resources_of(request)


ResourcesDep = Annotated[Resources, Depends(get_resources)]
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)]


async def _caller(
    request: Request, resources: Resources, credentials: HTTPAuthorizationCredentials | None
) -> Account:
    """An API key; else, with a provider configured, an access token (JWT) or the pages'
    session cookie (CSRF-checked): see :mod:`api.login`."""
    if resources.identity is not None:
        if credentials is not None and looks_like_jwt(credentials.credentials):
            return await account_for_access_token(resources, credentials.credentials)
        if credentials is None:
            caller = await session_caller(resources, request)
            if caller is not None:
                return caller.account
    return authenticate(resources.accounts, credentials)


async def current_account(request: Request, credentials: Credentials) -> Account:
    """The authenticated caller (401 without a valid API key, access token or session)."""
    return await _caller(request, resources_of(request), credentials)


AccountDep = Annotated[Account, Depends(current_account)]

BEARER_SECURITY: Final[dict[str, Any]] = {"security": [{bearer_scheme.scheme_name: []}]}
"""``openapi_extra`` declaring :data:`~api.auth.bearer_scheme` on a route that authenticates
with :func:`account_of` (the document is the same as with :data:`AccountDep`)."""


async def account_of(request: Request, resources: Resources) -> Account:
    """:func:`current_account` as a plain call, for hot routes (401 without a valid API key).

    Same header parsing (the scheme's own ``__call__``) and the same problems; it only skips
    FastAPI's dependency solving (tens of µs per request). Declare the scheme in the route's
    ``openapi_extra`` with :data:`BEARER_SECURITY`.
    """
    return await _caller(request, resources, await bearer_scheme(request))


async def lab_account(request: Request, credentials: Credentials) -> Account:
    """The authenticated caller, who must hold the lab role (403 otherwise)."""
    return require_role(await _caller(request, resources_of(request), credentials), "lab")


LabAccountDep = Annotated[Account, Depends(lab_account)]


async def operator_account(request: Request, credentials: Credentials) -> Account:
    """The authenticated caller, who must hold the operator role (403 otherwise)."""
    return require_role(authenticate(resources_of(request).accounts, credentials), "operator")


OperatorAccountDep = Annotated[Account, Depends(operator_account)]


async def _hit(resources: Resources, limiter: Limiter, key: str, rate: Rate, cost: int) -> Decision:
    metrics = resources.metrics
    counter = metrics.ratelimit
    kind = key_kind(key)
    try:
        decision = await limiter.hit(key, rate, cost)
    except LimiterUnavailable:
        metrics.child(counter, kind, "unavailable").inc()
        raise
    if decision.impossible:
        metrics.child(counter, kind, "impossible").inc()
        raise RequestInvalid(
            [
                FieldError(
                    "items",
                    "batch_exceeds_burst",
                    f"{cost} certificates exceed the most this {kind} quota grants at once "
                    f"({decision.limit}); split the batch",
                )
            ],
            message=f"batch of {cost} exceeds the {kind} burst of {decision.limit}",
        )
    if not decision.allowed:
        metrics.child(counter, kind, "denied").inc()
        scope = "the deployment's issuance" if kind == "global" else f"this {kind}"
        raise RateLimited(
            f"rate limit of {scope} quota reached; retry after the Retry-After delay",
            decision=decision,
        )
    metrics.child(counter, kind, "allowed").inc()
    return decision


async def charge_issuance(resources: Resources, account: Account, cost: int) -> Decision:
    """Spend ``cost`` cells of the account's quota (its own rate, else its role's), then of
    the global one.

    Returns the account's decision (its headers go on the response).
    """
    require_role(account, *ISSUING_ROLES)  # an operator account revokes, never issues
    if account.member_role is not None and account.member_role not in ISSUING_MEMBER_ROLES:
        raise PermissionDenied(
            f"the {account.member_role} member role may not issue (needs: issuer, org_admin)",
            code="member_role_forbidden",
        )
    settings = resources.settings
    rate = account.rate
    if rate is None:
        rate = settings.rate_lab if account.role == "lab" else settings.rate_pharmacist
    limiter = resources.issue_limiter
    decision = await _hit(resources, limiter, f"{account.role}:{account.id}", rate, cost)
    await _hit(resources, limiter, "global", settings.rate_global, cost)
    return decision


async def charge_account(resources: Resources, account: Account, cost: int = 1) -> Decision:
    """Spend ``cost`` cells of the account's own quota only (renders: api/render_limits.py)."""
    rate = account.rate
    if rate is None:
        settings = resources.settings
        rate = settings.rate_lab if account.role == "lab" else settings.rate_pharmacist
    key = f"{account.role}:{account.id}"
    return await _hit(resources, resources.issue_limiter, key, rate, cost)


async def charge_verification(resources: Resources, request: Request) -> Decision:
    """Spend one cell of the client address's verify quota (see :mod:`api.proxies`)."""
    host = request.client.host if request.client is not None else "unknown"
    rate = resources.settings.rate_verify
    return await _hit(resources, resources.verify_limiter, f"verify:{host}", rate, 1)
