"""Named logins: the pages' OpenID Connect login, their server-side sessions, access tokens.

A login (:func:`begin_login`) stores its state (hashed), nonce and PKCE verifier in the
store and sends the browser to the provider; the callback (:func:`finish_login`) takes that
state once, exchanges the code, checks the ID token (:mod:`api.oidc`), finds the member by
the provider's subject (and, when the member has one, the register number claim
``DCC_OIDC_REGISTER_CLAIM``), and opens a session: a random token in the ``dcc_session``
cookie (HttpOnly, SameSite=Lax, Secure when the service is reached over https), only its
hash in the store, with a CSRF token the page sends back in ``X-CSRF-Token`` on every
state-changing request made with the cookie.

A session ends at logout, after ``DCC_SESSION_IDLE_MINUTES`` without a request, at
``DCC_SESSION_MAX_MINUTES`` after login, and as soon as its member (or organisation) is no
longer active: every request checks the member in the account directory, which every
replica refreshes within a second.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from starlette.requests import Request

from api.accounts import Account, AccountDirectory
from api.oidc import IdentityProvider, new_login
from api.problems import AuthenticationFailed, PermissionDenied
from api.runtime import Resources
from store.sessions import PendingLogin, SessionRecord

__all__ = [
    "CSRF_HEADER",
    "SAFE_METHODS",
    "SESSION_COOKIE",
    "Caller",
    "account_for_access_token",
    "begin_login",
    "cookie_options",
    "finish_login",
    "looks_like_jwt",
    "redirect_uri",
    "session_caller",
]

SESSION_COOKIE: Final = "dcc_session"
CSRF_HEADER: Final = "x-csrf-token"
SAFE_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS"})
_MAX_COOKIE_CHARS: Final = 100
_MAX_RETURN_CHARS: Final = 200
_LOGGER = logging.getLogger("dcc.api")


@dataclass(frozen=True, slots=True)
class Caller:
    """A session's caller: the organisation acting as the member, and the session."""

    account: Account
    session: SessionRecord
    token: str


def identity_of(resources: Resources) -> IdentityProvider:
    """The configured provider (404 ``not_found`` when logins are not configured)."""
    if resources.identity is None:
        raise AuthenticationFailed(
            "logins are not configured here (DCC_OIDC_ISSUER is unset)", code="login_invalid"
        )
    return resources.identity


def _now(resources: Resources) -> int:
    return int(resources.clock().timestamp())


def redirect_uri(resources: Resources, request: Request) -> str:
    """``DCC_OIDC_REDIRECT_URL``, else this service's ``/auth/callback``."""
    configured = identity_of(resources).settings.redirect_url
    return configured or str(request.base_url).rstrip("/") + "/auth/callback"


def _safe_return(path: str | None) -> str:
    """Only a path of this origin (``/…`` but not ``//…``): never an open redirect."""
    if not path or len(path) > _MAX_RETURN_CHARS or not path.startswith("/"):
        return "/"
    if path.startswith("//") or "\\" in path or any(ord(c) < 0x21 for c in path):
        return "/"
    return path


async def begin_login(resources: Resources, request: Request, return_to: str | None) -> str:
    """Start a login: remember its secrets, return the provider's authorization URL."""
    provider = identity_of(resources)
    login = new_login()
    pending = PendingLogin(login.nonce, login.code_verifier, _safe_return(return_to))
    url = await provider.authorization_url(login, redirect_uri(resources, request))
    await resources.store.sessions.start_login(login.state, pending, now=_now(resources))
    return url


async def finish_login(
    resources: Resources, request: Request, code: str, state: str, iss: str | None = None
) -> tuple[str, str]:
    """Finish a login at the callback: (session cookie token, where to return).

    ``iss`` (RFC 9207), when the provider sends it, must be ours (mix-up defence)."""
    provider = identity_of(resources)
    if not code or not state or len(code) > 2048 or len(state) > 256:
        raise AuthenticationFailed("the login answer is incomplete", code="login_invalid")
    if iss is not None and iss != provider.settings.issuer:
        raise AuthenticationFailed("the login answer names another issuer", code="login_invalid")
    pending = await resources.store.sessions.take_login(state, now=_now(resources))
    if pending is None:
        raise AuthenticationFailed(
            "this login is unknown, used or too old: log in again", code="login_invalid"
        )
    id_token = await provider.exchange_code(
        code, pending.code_verifier, redirect_uri(resources, request)
    )
    claims = await provider.verify_id_token(id_token, pending.nonce)
    member_id = _member_for(resources.accounts, claims, provider.settings.register_claim)
    oidc = provider.settings
    token, _ = await resources.store.sessions.create(
        member_id, now=_now(resources), lifetime=oidc.session_max_seconds
    )
    member = resources.accounts.member_by_id(member_id)
    assert member is not None
    _LOGGER.info("login of member %s of account %s", member.subject, member.account_id)
    return token, pending.return_to


def _member_for(accounts: AccountDirectory, claims: Mapping[str, Any], register_claim: str) -> str:
    member = accounts.member_by_subject(str(claims["sub"]))
    if member is None or accounts.acting(member) is None:
        raise PermissionDenied(
            "this login is not an active member of an organisation here", code="login_invalid"
        )
    if member.register_number is not None:
        vouched = claims.get(register_claim)
        if not isinstance(vouched, str) or not hmac.compare_digest(
            vouched.encode(), member.register_number.encode()
        ):
            raise PermissionDenied(
                "the provider does not vouch for this member's register number",
                code="login_invalid",
            )
    return member.id


def cookie_options(resources: Resources, request: Request) -> dict[str, Any]:
    """The session cookie's attributes: HttpOnly, SameSite=Lax, path /, Secure over https."""
    configured = identity_of(resources).settings.redirect_url or ""
    secure = request.url.scheme == "https" or configured.startswith("https://")
    return {"httponly": True, "samesite": "lax", "secure": secure, "path": "/"}


async def session_caller(
    resources: Resources, request: Request, *, check_csrf: bool = True
) -> Caller | None:
    """The caller of the request's session cookie (None without a cookie); 401 when the
    session ended, 403 ``csrf_token_invalid`` for a state-changing request without its
    CSRF token."""
    token = request.cookies.get(SESSION_COOKIE)
    if resources.identity is None or not token:
        return None
    if len(token) > _MAX_COOKIE_CHARS:
        raise AuthenticationFailed("the session has ended: log in again", code="login_invalid")
    oidc = resources.identity.settings
    sessions = resources.store.sessions
    session = await sessions.get(token, now=_now(resources), idle=oidc.session_idle_seconds)
    if session is None:
        raise AuthenticationFailed("the session has ended: log in again", code="login_invalid")
    member = resources.accounts.member_by_id(session.member_id)
    account = resources.accounts.acting(member) if member is not None else None
    if account is None:
        await sessions.end(token)
        raise AuthenticationFailed(
            "the session has ended: this member is no longer active", code="login_invalid"
        )
    if check_csrf and request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER, "")
        if not hmac.compare_digest(sent.encode(), session.csrf_token.encode()):
            raise PermissionDenied(
                "a request made with the session cookie needs its X-CSRF-Token header",
                code="csrf_token_invalid",
            )
    return Caller(account, session, token)


def looks_like_jwt(credential: str) -> bool:
    """Whether a bearer credential is shaped like a JWT (API keys never contain dots)."""
    return credential.count(".") == 2


async def account_for_access_token(resources: Resources, token: str) -> Account:
    """The organisation acting as the member an access token (JWT) names; 401 otherwise."""
    if resources.identity is None:
        raise AuthenticationFailed(
            "this service accepts API keys only", code="access_token_invalid"
        )
    claims = await resources.identity.verify_access_token(token)
    member = resources.accounts.member_by_subject(str(claims["sub"]))
    account = resources.accounts.acting(member) if member is not None else None
    if account is None:
        raise AuthenticationFailed(
            "the token's subject is not an active member of an organisation here",
            code="access_token_invalid",
        )
    return account
