"""Trusted proxies: the client address behind a load balancer (``DCC_TRUSTED_PROXIES``).

Behind a balancer every socket peer is the balancer, so the verify quota (keyed on the
client address) would put every traveller in one bucket. :class:`TrustedProxies` is a pure
ASGI middleware that, only when the socket peer lies in one of the trusted networks,
replaces ``scope["client"]`` by the **rightmost untrusted** address of ``X-Forwarded-For``
(each proxy appends the peer it saw, so the rightmost entry not added by one of ours is the
one nobody outside could forge). From any other peer the header is ignored: a client
talking to a replica directly cannot choose its quota bucket. Because the scope itself is
changed, the verify quota and uvicorn's access log both see the same address.

``X-Forwarded-Proto`` is not used (URLs are never built from the request's scheme).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from functools import lru_cache
from typing import Final

from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["Network", "TrustedProxies", "client_address", "parse_networks"]

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
_MAX_HOPS: Final = 32
"""At most this many X-Forwarded-For entries are read (from the right); bounds the work."""


def parse_networks(raw: str) -> tuple[Network, ...]:
    """``"10.0.0.0/8, 127.0.0.1"`` → networks (a bare address is a /32 or /128).

    Raises ``ValueError`` naming the first entry that is not an address or a network.
    """
    networks = []
    for item in raw.split(","):
        text = item.strip()
        if not text:
            continue
        try:
            networks.append(ipaddress.ip_network(text, strict=False))
        except ValueError:
            raise ValueError(f"{text!r} is not an IP address or CIDR network") from None
    return tuple(networks)


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The IP address in an X-Forwarded-For entry (``1.2.3.4``, ``1.2.3.4:5``, ``[::1]:5``)."""
    text = text.strip()
    if text.startswith("["):
        text = text[1 : text.find("]")] if "]" in text else text
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def client_address(peer: str, forwarded_for: Iterable[str], networks: tuple[Network, ...]) -> str:
    """The client address a request counts as.

    ``peer`` when it is not a trusted proxy; otherwise the rightmost entry of the
    ``X-Forwarded-For`` values that is not itself a trusted proxy. An entry that is not an
    IP address stops the walk and is never used (the last trusted hop is the client then);
    so is an empty header (the peer stays).
    """
    trusted = _trust_check(networks)
    if not trusted(peer):
        return peer
    hops = [hop for value in forwarded_for for hop in value.split(",")]
    client = peer
    for hop in reversed(hops[-_MAX_HOPS:]):
        address = _address(hop)
        if address is None:
            break
        client = str(address)
        if not trusted(client):
            break
    return client


@lru_cache(maxsize=8)
def _trust_check(networks: tuple[Network, ...]) -> _Trust:
    return _Trust(networks)


class _Trust:
    """Whether an address lies in the trusted networks (answers cached per address)."""

    def __init__(self, networks: tuple[Network, ...]) -> None:
        self._networks = networks
        self._check = lru_cache(maxsize=4096)(self._compute)

    def __call__(self, host: str) -> bool:
        return len(host) <= 64 and self._check(host)

    def _compute(self, host: str) -> bool:
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        return any(address in network for network in self._networks)


class TrustedProxies:
    """ASGI middleware: rewrite ``scope["client"]`` from X-Forwarded-For of trusted peers."""

    def __init__(self, app: ASGIApp, *, networks: tuple[Network, ...]) -> None:
        self.app = app
        self.networks = networks

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.networks:
            peer = scope.get("client")
            if peer is not None:
                values = [
                    value.decode("latin-1")
                    for name, value in scope["headers"]
                    if name == b"x-forwarded-for"
                ]
                if values:
                    host = client_address(peer[0], values, self.networks)
                    if host != peer[0]:
                        scope["client"] = (host, 0)
        await self.app(scope, receive, send)
