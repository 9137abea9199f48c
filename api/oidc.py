"""The OpenID provider as this service uses it: discovery, keys, code exchange, token checks.

The authorization request is built with Authlib's PKCE (S256) and token helpers; ID tokens
and access tokens are JWTs checked with joserfc (Authlib's JOSE library) against the
provider's JWKS, with the algorithm, issuer, audience and expiry pinned:

- algorithms: only :attr:`OidcSettings.algorithms` (asymmetric; ``none`` and HMAC never),
  and only compact JWS (three parts: no JWE, no unsecured JWT);
- ``iss`` must equal ``DCC_OIDC_ISSUER``; ``aud`` the client id (ID token) or
  ``DCC_OIDC_AUDIENCE`` (access token, which must also be typed ``at+jwt``, RFC 9068);
- ``exp`` must be in the future (:data:`LEEWAY_SECONDS` of clock skew), ``iat`` present;
  an ID token's ``nonce`` must be the login's.

Discovery and JWKS are fetched once and cached (:data:`JWKS_SECONDS`); a token signed with a
key id not in the cache fetches the JWKS again (the provider rotated its keys), at most
every :data:`JWKS_REFETCH_SECONDS`. A provider that does not answer is 503
``oidc_unavailable``; a token that fails a check is 401.
"""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import Callable, Mapping
from typing import Any, Final
from urllib.parse import urlencode

import httpx
import orjson
from authlib.common.security import generate_token
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from api.oidc_settings import OidcSettings
from api.problems import AuthenticationFailed, IdentityProviderUnavailable

__all__ = [
    "JWKS_REFETCH_SECONDS",
    "JWKS_SECONDS",
    "LEEWAY_SECONDS",
    "MAX_TOKEN_CHARS",
    "IdentityProvider",
    "LoginRequest",
    "new_login",
]

JWKS_SECONDS: Final = 600.0
JWKS_REFETCH_SECONDS: Final = 10.0
LEEWAY_SECONDS: Final = 30
MAX_TOKEN_CHARS: Final = 8192
"""Longer tokens are refused before any parsing."""
_MAX_DOCUMENT_BYTES: Final = 256 * 1024
_TIMEOUT: Final = httpx.Timeout(5.0)
_ACCESS_TOKEN_TYPES: Final = frozenset({"at+jwt", "application/at+jwt"})


class LoginRequest:
    """A login about to start: the secrets it carries (state, nonce, PKCE verifier)."""

    __slots__ = ("code_challenge", "code_verifier", "nonce", "state")

    def __init__(self) -> None:
        self.state = generate_token(43)
        self.nonce = generate_token(43)
        self.code_verifier = generate_token(64)
        self.code_challenge = create_s256_code_challenge(self.code_verifier)


def new_login() -> LoginRequest:
    """Fresh state, nonce and PKCE verifier (256+ random bits each)."""
    return LoginRequest()


class IdentityProvider:
    """The configured provider: its metadata and keys (cached), and the token checks."""

    def __init__(
        self,
        settings: OidcSettings,
        *,
        clock: Callable[[], float] = time.time,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.settings = settings
        self._clock = clock
        self._http = httpx.AsyncClient(timeout=_TIMEOUT, transport=transport)
        self._metadata: dict[str, Any] | None = None
        self._keys: KeySet | None = None
        self._keys_fetched = float("-inf")
        self._lock = asyncio.Lock()

    async def close(self) -> None:
        await self._http.aclose()

    async def _get_json(self, url: str) -> dict[str, Any]:
        try:
            response = await self._http.get(url, headers={"Accept": "application/json"})
        except httpx.HTTPError as error:
            raise IdentityProviderUnavailable(
                f"the identity provider did not answer: {error}"
            ) from error
        return _document(response)

    async def metadata(self) -> dict[str, Any]:
        """The provider's discovery document (fetched once; its issuer must be ours)."""
        if self._metadata is None:
            url = f"{self.settings.issuer}/.well-known/openid-configuration"
            document = await self._get_json(url)
            if document.get("issuer") != self.settings.issuer:
                raise IdentityProviderUnavailable(
                    "the provider's discovery document names another issuer"
                )
            for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
                if not isinstance(document.get(name), str):
                    raise IdentityProviderUnavailable(f"the provider publishes no {name}")
            self._metadata = document
        return self._metadata

    async def _key_set(self, kid: str | None) -> KeySet:
        """The provider's keys; fetched again when ``kid`` is unknown or the cache is old."""
        async with self._lock:
            now = self._clock()
            known = self._keys is not None and (kid is None or _has_kid(self._keys, kid))
            fresh = now - self._keys_fetched < JWKS_SECONDS
            may_refetch = now - self._keys_fetched >= JWKS_REFETCH_SECONDS
            if self._keys is None or (not fresh) or (not known and may_refetch):
                document = await self._get_json((await self.metadata())["jwks_uri"])
                try:
                    self._keys = KeySet.import_key_set(document)  # type: ignore[arg-type]
                except (JoseError, ValueError, TypeError, KeyError) as error:
                    raise IdentityProviderUnavailable(
                        f"the provider's JWKS is not usable: {error}"
                    ) from error
                self._keys_fetched = now
            assert self._keys is not None
            return self._keys

    async def authorization_url(self, login: LoginRequest, redirect_uri: str) -> str:
        """Where the browser goes to log in: code flow with PKCE (S256), state and nonce."""
        endpoint = (await self.metadata())["authorization_endpoint"]
        query = urlencode(
            {
                "response_type": "code",
                "client_id": self.settings.client_id,
                "redirect_uri": redirect_uri,
                "scope": self.settings.scopes,
                "state": login.state,
                "nonce": login.nonce,
                "code_challenge": login.code_challenge,
                "code_challenge_method": "S256",
            }
        )
        return f"{endpoint}{'&' if '?' in endpoint else '?'}{query}"

    async def exchange_code(self, code: str, code_verifier: str, redirect_uri: str) -> str:
        """The ID token the token endpoint gives for ``code`` (client_secret_basic auth)."""
        endpoint = (await self.metadata())["token_endpoint"]
        try:
            response = await self._http.post(
                endpoint,
                data={
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": redirect_uri,
                    "code_verifier": code_verifier,
                },
                auth=(self.settings.client_id, self.settings.client_secret),
                headers={"Accept": "application/json"},
            )
        except httpx.HTTPError as error:
            raise IdentityProviderUnavailable(
                f"the token endpoint did not answer: {error}"
            ) from error
        if 400 <= response.status_code < 500:
            raise AuthenticationFailed(
                "the identity provider refused the login code", code="login_invalid"
            )
        id_token = _document(response).get("id_token")
        if not isinstance(id_token, str):
            raise AuthenticationFailed("the provider returned no ID token", code="login_invalid")
        return id_token

    async def verify_id_token(self, id_token: str, nonce: str) -> Mapping[str, Any]:
        """The claims of a valid ID token for this client and this login's ``nonce``."""
        return await self._verify(
            id_token, audience=self.settings.client_id, nonce=nonce, code="login_invalid"
        )

    async def verify_access_token(self, token: str) -> Mapping[str, Any]:
        """The claims of a valid access token (JWT) for ``DCC_OIDC_AUDIENCE``."""
        audience = self.settings.audience
        if audience is None:
            raise AuthenticationFailed(
                "this service accepts no access tokens (DCC_OIDC_AUDIENCE is unset)",
                code="access_token_invalid",
            )
        return await self._verify(token, audience=audience, nonce=None, code="access_token_invalid")

    async def _verify(
        self, token: str, *, audience: str, nonce: str | None, code: str
    ) -> Mapping[str, Any]:
        def refused(reason: str) -> AuthenticationFailed:
            return AuthenticationFailed(f"the token is not valid: {reason}", code=code)

        if len(token) > MAX_TOKEN_CHARS or token.count(".") != 2:
            raise refused("not a signed JWT")
        header = _header(token)
        if header is None:
            raise refused("unreadable header")
        if header.get("alg") not in self.settings.algorithms:
            raise refused(f"algorithm {header.get('alg')!r} is not accepted")
        if nonce is None and header.get("typ") not in _ACCESS_TOKEN_TYPES:
            raise refused("not an access token (typ at+jwt)")
        kid = header.get("kid")
        keys = await self._key_set(kid if isinstance(kid, str) else None)
        try:
            decoded = jwt.decode(token, keys, algorithms=list(self.settings.algorithms))
        except (JoseError, ValueError, TypeError, KeyError) as error:
            raise refused(type(error).__name__) from error
        options: dict[str, Any] = {
            "iss": {"essential": True, "value": self.settings.issuer},
            "aud": {"essential": True, "value": audience},
            "exp": {"essential": True},
            "iat": {"essential": True},
            "sub": {"essential": True},
        }
        if nonce is not None:
            options["nonce"] = {"essential": True, "value": nonce}
        registry = jwt.JWTClaimsRegistry(
            now=lambda: int(self._clock()), leeway=LEEWAY_SECONDS, **options
        )
        try:
            registry.validate(decoded.claims)
        except JoseError as error:
            raise refused(getattr(error, "description", None) or type(error).__name__) from error
        subject = decoded.claims.get("sub")
        if not isinstance(subject, str) or not subject:
            raise refused("no subject")
        return decoded.claims


def _has_kid(keys: KeySet, kid: str) -> bool:
    return any(key.kid == kid for key in keys.keys)


def _header(token: str) -> dict[str, Any] | None:
    encoded = token.split(".", 1)[0]
    try:
        header = orjson.loads(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))
    except (ValueError, orjson.JSONDecodeError):
        return None
    return header if isinstance(header, dict) else None


def _document(response: httpx.Response) -> dict[str, Any]:
    if response.status_code != 200 or len(response.content) > _MAX_DOCUMENT_BYTES:
        raise IdentityProviderUnavailable(
            f"the identity provider answered {response.status_code} at {response.url.path}"
        )
    try:
        document = orjson.loads(response.content)
    except orjson.JSONDecodeError as error:
        raise IdentityProviderUnavailable("the identity provider answered no JSON") from error
    if not isinstance(document, dict):
        raise IdentityProviderUnavailable("the identity provider answered no JSON object")
    return document
