"""DCC_TRUSTED_PROXIES: X-Forwarded-For counts only from trusted peers (rightmost untrusted hop)."""

from __future__ import annotations

from typing import Any

import pytest

from api.proxies import client_address, parse_networks
from api.ratelimit import Rate
from api.settings import Settings
from signing.errors import ConfigError

BALANCERS = parse_networks("10.0.0.0/8, 127.0.0.1")


@pytest.mark.parametrize(
    ("peer", "forwarded", "expected"),
    [
        pytest.param("203.0.113.5", ["198.51.100.1"], "203.0.113.5", id="untrusted-peer-spoofs"),
        pytest.param("10.1.2.3", ["198.51.100.1"], "198.51.100.1", id="one-balancer"),
        pytest.param(
            "10.1.2.3", ["6.6.6.6, 198.51.100.1, 10.9.9.9"], "198.51.100.1", id="client-spoofs"
        ),
        pytest.param("10.1.2.3", ["6.6.6.6", "198.51.100.1"], "198.51.100.1", id="two-headers"),
        pytest.param("10.1.2.3", ["198.51.100.1:4711"], "198.51.100.1", id="with-port"),
        pytest.param("10.1.2.3", ["[2001:db8::1]:443"], "2001:db8::1", id="ipv6-port"),
        pytest.param("10.1.2.3", ["10.4.4.4, 10.5.5.5"], "10.4.4.4", id="all-trusted"),
        pytest.param("10.1.2.3", ["198.51.100.1, junk"], "10.1.2.3", id="junk-stops"),
        pytest.param("10.1.2.3", [""], "10.1.2.3", id="empty"),
        pytest.param("127.0.0.1", ["198.51.100.7"], "198.51.100.7", id="single-address"),
    ],
)
def test_client_address(peer: str, forwarded: list[str], expected: str) -> None:
    assert client_address(peer, forwarded, BALANCERS) == expected


def test_setting_is_read_and_bad_networks_are_named() -> None:
    settings = Settings.from_env({"DCC_TRUSTED_PROXIES": "10.0.0.0/8,  fd00::/8"})
    assert [str(n) for n in settings.trusted_proxies] == ["10.0.0.0/8", "fd00::/8"]
    assert Settings.from_env({}).trusted_proxies == ()
    with pytest.raises(ConfigError, match=r"DCC_TRUSTED_PROXIES.*'balancer'"):
        Settings.from_env({"DCC_TRUSTED_PROXIES": "10.0.0.0/8,balancer"})


async def verify_statuses(service: Any, forwarded: list[str]) -> list[int]:
    statuses = []
    for address in forwarded:
        response = await service.client.post(
            "/v1/verify", json={"hc1": "HC1:X"}, headers={"X-Forwarded-For": address}
        )
        statuses.append(response.status_code)
    return statuses


async def test_behind_a_trusted_balancer_each_traveller_has_a_bucket(start_service: Any) -> None:
    # The test transport's peer is 127.0.0.1: trusted here.
    service = await start_service(
        {"rate_verify": Rate.parse("2/minute"), "trusted_proxies": parse_networks("127.0.0.0/8")}
    )
    one, two = "198.51.100.1", "198.51.100.2"
    assert await verify_statuses(service, [one, one, one]) == [200, 200, 429]
    assert await verify_statuses(service, [two, two]) == [200, 200]
    # A client cannot escape by prepending addresses: the balancer appended its real peer.
    assert await verify_statuses(service, [f"203.0.113.{i}, {one}" for i in range(3)]) == [429] * 3


async def test_spoofed_header_from_an_untrusted_peer_is_ignored(start_service: Any) -> None:
    service = await start_service(
        {"rate_verify": Rate.parse("2/minute"), "trusted_proxies": parse_networks("10.0.0.0/8")}
    )
    forwarded = ["198.51.100.1", "198.51.100.2", "198.51.100.3"]
    assert await verify_statuses(service, forwarded) == [200, 200, 429]
