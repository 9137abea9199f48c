"""The OpenID Connect settings (``DCC_OIDC_*``, ``DCC_SESSION_*``), read with the others.

Unset ``DCC_OIDC_ISSUER``: no login on the pages, no access tokens on the API; API keys
alone (the embedded default, ``make run``). Set: the client id and secret are required, the
issuer must be ``https://`` (``http://`` only on loopback, for tests and local trials), and
the algorithms accepted in tokens are pinned to asymmetric ones (never ``none`` nor HMAC).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Final, TypeVar
from urllib.parse import urlsplit

__all__ = ["ALLOWED_ALGORITHMS", "OidcSettings", "read_oidc_settings"]

ALLOWED_ALGORITHMS: Final = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
"""What ``DCC_OIDC_ALGORITHMS`` may list: signatures by a key only the provider holds."""
_LOOPBACK: Final = frozenset({"127.0.0.1", "localhost", "::1"})
T = TypeVar("T")


@dataclass(frozen=True)
class OidcSettings:
    """The identity provider, this service's client at it, and the pages' sessions."""

    issuer: str
    client_id: str
    client_secret: str = field(repr=False)
    redirect_url: str | None = None
    audience: str | None = None
    algorithms: tuple[str, ...] = ("RS256", "ES256")
    scopes: str = "openid"
    register_claim: str = "register_number"
    session_idle_seconds: int = 30 * 60
    session_max_seconds: int = 12 * 3600


def _url(raw: str, what: str) -> str:
    parts = urlsplit(raw)
    secure = parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in _LOOPBACK)
    if secure and parts.netloc and not parts.query and not parts.fragment:
        return raw.rstrip("/") if what == "issuer" else raw
    raise ValueError(f"the {what} must be an https:// URL (http:// only on loopback)")


def _algorithms(raw: str) -> tuple[str, ...]:
    names = tuple(name.strip() for name in raw.split(",") if name.strip())
    wrong = [name for name in names if name not in ALLOWED_ALGORITHMS]
    if not names or wrong:
        raise ValueError(f"must list algorithms among {', '.join(sorted(ALLOWED_ALGORITHMS))}")
    return names


def _minutes(raw: str) -> int:
    value = float(raw)
    if not 1 <= value <= 24 * 60:
        raise ValueError("must be a number of minutes between 1 and 1440")
    return round(value * 60)


def read_oidc_settings(
    env: Mapping[str, str], problems: list[str], prefix: str = "DCC_"
) -> OidcSettings | None:
    """The OIDC settings of ``env`` (None without ``DCC_OIDC_ISSUER``); bad values are
    appended to ``problems``."""

    def text(name: str) -> str:
        return env.get(prefix + name, "").strip()

    def parsed(name: str, parse: Callable[[str], T], default: T) -> T:
        raw = text(name)
        if not raw:
            return default
        try:
            return parse(raw)
        except ValueError as exc:
            problems.append(f"{prefix}{name}={raw!r}: {exc}")
            return default

    issuer = parsed("OIDC_ISSUER", lambda raw: _url(raw, "issuer"), "")
    if not issuer:
        return None
    client_id, client_secret = text("OIDC_CLIENT_ID"), text("OIDC_CLIENT_SECRET")
    for name, value in (("OIDC_CLIENT_ID", client_id), ("OIDC_CLIENT_SECRET", client_secret)):
        if not value:
            problems.append(f"{prefix}{name}: required when {prefix}OIDC_ISSUER is set")
    defaults = OidcSettings(issuer, client_id, client_secret)
    return OidcSettings(
        issuer=issuer,
        client_id=client_id,
        client_secret=client_secret,
        redirect_url=parsed("OIDC_REDIRECT_URL", lambda raw: _url(raw, "redirect URL"), None),
        audience=text("OIDC_AUDIENCE") or None,
        algorithms=parsed("OIDC_ALGORITHMS", _algorithms, defaults.algorithms),
        scopes=text("OIDC_SCOPES") or defaults.scopes,
        register_claim=text("OIDC_REGISTER_CLAIM") or defaults.register_claim,
        session_idle_seconds=parsed(
            "SESSION_IDLE_MINUTES", _minutes, defaults.session_idle_seconds
        ),
        session_max_seconds=parsed("SESSION_MAX_MINUTES", _minutes, defaults.session_max_seconds),
    )
