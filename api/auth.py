"""Authentication: ``Authorization: Bearer <api key>`` → the :class:`~api.accounts.Account`
(access tokens and the pages' session cookie: :mod:`api.login`, tried first by
:mod:`api.deps` when a provider is configured).

:data:`bearer_scheme` declares the scheme in the OpenAPI document and reads the header;
:func:`authenticate` decides. A missing header (or another scheme) is
``authentication_required``, an unknown or expired key ``api_key_invalid``: both 401 with
``WWW-Authenticate: Bearer`` (added in :mod:`api.problems`). A disabled account is 403
``account_disabled``; :func:`require_role` turns a role mismatch into 403 ``role_forbidden``.
"""

from __future__ import annotations

from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.accounts import Account, AccountDirectory
from api.problems import AuthenticationFailed, PermissionDenied
from store.accounts import Role

__all__ = ["authenticate", "bearer_scheme", "require_role"]

bearer_scheme = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
    bearerFormat="dcc_<id>_<secret>",
    description="An API key from `dcc accounts add`, sent as `Authorization: Bearer <key>`; "
    "when the service has an OpenID provider (DCC_OIDC_ISSUER), also its access token (JWT).",
)


def authenticate(
    accounts: AccountDirectory, credentials: HTTPAuthorizationCredentials | None
) -> Account:
    """The account the bearer credentials prove, or raise :class:`AuthenticationFailed`."""
    if credentials is None:
        raise AuthenticationFailed(
            "this endpoint needs an API key: send 'Authorization: Bearer <key>'",
            code="authentication_required",
        )
    account = accounts.authenticate(credentials.credentials)
    if account is None:
        raise AuthenticationFailed("the API key is not valid", code="api_key_invalid")
    if account.status != "active":
        raise PermissionDenied("this account is disabled", code="account_disabled")
    return account


def require_role(account: Account, *roles: Role) -> Account:
    """``account`` when its role is one of ``roles``, else raise :class:`PermissionDenied`."""
    if account.role not in roles:
        raise PermissionDenied(
            f"the {account.role} role may not use this endpoint (needs: {', '.join(roles)})",
            role=account.role,
        )
    return account
