"""Key rotation in a running service: replicas switch at the activation time without restart,
the trust list holds every DSC with live certificates, and no request fails during the switch."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from api.app import create_app
from api.ratelimit import Rate
from api.settings import Settings
from keys.generate import generate_keys
from keys.kid import compute_kid, kid_b64
from keys.lifecycle import retire_dsc, revoke_dsc, rotate_dsc
from keys.load import load_certificate
from keys.manifest import read_manifest
from keys.signed_list import verify_signed_trust_list
from keys.trust_list import parse_certificates
from signing.errors import KeyMaterialError
from tests.accounts import add_account, run_on_store
from tests.api.conftest import Service, ServiceFactory
from tests.waiting import async_wait_until
from verifier import TrustStore, verify


@pytest.fixture
def own_keys(tmp_path: Path) -> Path:
    directory = tmp_path / "keys"
    generate_keys(directory, country="LU")
    return directory


async def _issue(service: Service, make_request: Any) -> dict[str, Any]:
    response = await service.client.post(
        "/v1/certificates", json=make_request(), headers=service.auth()
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def _trust_kids(service: Service) -> set[str]:
    response = await service.client.get("/v1/trust-list")
    assert response.status_code == 200
    return {entry["kid"] for entry in response.json()}


async def _valid_against_published(service: Service, hc1: str) -> bool:
    """Valid against the trust list ``service`` publishes right now, and on its /v1/verify."""
    listing = await service.client.get("/v1/trust-list")
    trust = TrustStore.from_certificates(parse_certificates(listing.content))
    local = verify(hc1, trust=trust, now=datetime.now(UTC))
    remote = await service.client.post("/v1/verify", json={"hc1": hc1})
    return local.valid and remote.status_code == 200 and remote.json()["valid"] is True


async def test_rotation_reaches_a_running_service_and_keeps_old_certificates_valid(
    start_service: ServiceFactory, own_keys: Path, make_request: Any
) -> None:
    service = await start_service({"keys_dir": own_keys})
    old_kid = read_manifest(own_keys).dscs[0].kid
    before = await _issue(service, make_request)
    assert before["kid"] == old_kid
    rotated = rotate_dsc(own_keys, activates_at=datetime.now(UTC) + timedelta(seconds=1))
    new_kid = rotated.record.kid
    await async_wait_until(
        lambda: _published(service, new_kid), what="the pending DSC in the trust list"
    )

    async def signs_with_new() -> bool:
        return (await _issue(service, make_request))["kid"] == new_kid

    await async_wait_until(signs_with_new, what="the service signing with the new DSC")
    assert await _trust_kids(service) == {old_kid, new_kid}
    assert await _valid_against_published(service, before["hc1"])
    after = await _issue(service, make_request)
    assert await _valid_against_published(service, after["hc1"])
    assert kid_b64(service.resources.runtime.keys.kid) == new_kid


async def _published(service: Service, kid: str) -> bool:
    return kid in await _trust_kids(service)


@pytest.mark.slow
async def test_rotation_under_load_across_two_replicas(
    start_service: ServiceFactory, own_keys: Path, make_request: Any
) -> None:
    """Two replicas share the keys directory and the database; clients issue on both through
    the switch; each certificate is checked at once against the trust list the *other*
    replica publishes at that moment (and its /v1/verify): none fails, none is invalid."""
    changes = {"keys_dir": own_keys, "rate_verify": Rate.parse("100000/minute")}
    first = await start_service(changes)
    second = await start_service(changes)
    replicas = (first, second)
    old_kid = read_manifest(own_keys).dscs[0].kid
    issued: list[tuple[str, str]] = []
    failures: list[str] = []
    seen_new: dict[int, int] = {0: 0, 1: 0}
    rotated: dict[str, str] = {}
    target_after_switch = 15

    async def client(number: int) -> None:
        index = number % 2
        while min(seen_new.values()) < target_after_switch and not failures:
            issuer, checker = replicas[index], replicas[1 - index]
            response = await issuer.client.post(
                "/v1/certificates", json=make_request(), headers=issuer.auth()
            )
            if response.status_code != 201:
                failures.append(f"issue {response.status_code}: {response.text}")
                return
            body = response.json()
            issued.append((body["kid"], body["hc1"]))
            if body["kid"] == rotated.get("kid"):
                seen_new[index] += 1
            if not await _valid_against_published(checker, body["hc1"]):
                failures.append(f"certificate of kid {body['kid']} invalid on the other replica")
            index = 1 - index

    async def rotate_soon() -> None:
        while len(issued) < 10:
            await asyncio.sleep(0.01)
        record = rotate_dsc(own_keys, activates_at=datetime.now(UTC) + timedelta(seconds=2))
        rotated["kid"] = record.record.kid

    await asyncio.wait_for(
        asyncio.gather(rotate_soon(), *(client(n) for n in range(6))), timeout=60
    )
    assert failures == []
    kids = [kid for kid, _ in issued]
    assert kids[0] == old_kid
    assert rotated["kid"] in kids
    switch = kids.index(rotated["kid"])
    assert old_kid in kids[:switch]
    for replica in replicas:
        assert await _trust_kids(replica) == {old_kid, rotated["kid"]}
    for _, hc1 in issued[:: max(1, len(issued) // 20)]:
        assert await _valid_against_published(first, hc1)


async def test_a_retired_key_still_verifies_and_a_revoked_one_is_dropped(
    start_service: ServiceFactory, own_keys: Path, make_request: Any
) -> None:
    service = await start_service({"keys_dir": own_keys})
    old_kid = read_manifest(own_keys).dscs[0].kid
    old = await _issue(service, make_request)
    new_kid = rotate_dsc(own_keys, activates_at=datetime.now(UTC)).record.kid
    retire_dsc(own_keys, old_kid)

    async def switched() -> bool:
        return (await _issue(service, make_request))["kid"] == new_kid

    await async_wait_until(switched, what="signing with the rotated DSC")
    assert await _valid_against_published(service, old["hc1"])
    revoke_dsc(own_keys, old_kid)

    async def dropped() -> bool:
        return await _trust_kids(service) == {new_kid}

    await async_wait_until(dropped, what="the revoked DSC left the trust list")
    report = (await service.client.post("/v1/verify", json={"hc1": old["hc1"]})).json()
    assert report["valid"] is False
    assert report["error"]["code"] == "kid_unknown"


async def test_no_active_key_at_runtime_answers_503(
    start_service: ServiceFactory, own_keys: Path, make_request: Any
) -> None:
    service = await start_service({"keys_dir": own_keys})
    retire_dsc(own_keys, read_manifest(own_keys).dscs[0].kid)

    async def refused() -> bool:
        response = await service.client.post(
            "/v1/certificates", json=make_request(), headers=service.auth()
        )
        return response.status_code == 503 and "Retry-After" in response.headers

    await async_wait_until(refused, what="503 once the only DSC is retired")


async def test_a_replica_without_active_key_refuses_to_start(
    settings: Settings, own_keys: Path
) -> None:
    kid = read_manifest(own_keys).dscs[0].kid
    retire_dsc(own_keys, kid)
    rotate_dsc(own_keys, activates_at=datetime.now(UTC) + timedelta(hours=1))
    app = create_app(dataclasses.replace(settings, keys_dir=own_keys))
    with pytest.raises(KeyMaterialError) as caught:
        async with app.router.lifespan_context(app):
            pass  # pragma: no cover
    assert caught.value.code == "no_active_key"
    assert "pending" in caught.value.message
    assert "dcc keys" in caught.value.message


async def test_the_signed_trust_list_holds_the_published_dscs(
    start_service: ServiceFactory, own_keys: Path, make_request: Any
) -> None:
    service = await start_service({"keys_dir": own_keys})
    new_kid = rotate_dsc(own_keys, activates_at=datetime.now(UTC) + timedelta(hours=1)).record
    await async_wait_until(
        lambda: _published(service, new_kid.kid), what="the pending DSC in the trust list"
    )
    response = await service.client.get("/v1/trust-list.cose")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/cose")
    csca = load_certificate(own_keys / "csca.pem")
    certs = verify_signed_trust_list(response.content, csca, now=datetime.now(UTC))
    assert {kid_b64(compute_kid(cert)) for cert in certs} == await _trust_kids(service)


async def test_without_csca_key_no_signed_trust_list(
    start_service: ServiceFactory, own_keys: Path
) -> None:
    (own_keys / "csca.key").unlink()
    service = await start_service({"keys_dir": own_keys})
    response = await service.client.get("/v1/trust-list.cose")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


async def test_a_scoped_account_signs_with_its_scopes_dsc(
    start_service: ServiceFactory, own_keys: Path, make_request: Any
) -> None:
    default_kid = read_manifest(own_keys).dscs[0].kid
    lab_kid = rotate_dsc(own_keys, activates_at=datetime.now(UTC), scope="lab-1").record.kid
    service = await start_service({"keys_dir": own_keys})
    url = service.resources.settings.database_url
    await asyncio.to_thread(
        run_on_store, url, lambda store: store.accounts.set_scope(service.lab_id, "lab-1", now=1)
    )

    async def scoped() -> bool:
        return (await _issue(service, make_request))["kid"] == lab_kid

    await async_wait_until(scoped, what="the lab account signing with its scope's DSC")
    response = await service.client.post(
        "/v1/certificates/batch",
        json={"items": [make_request(), make_request()]},
        headers=service.auth(),
    )
    assert response.status_code == 200, response.text
    assert {item["kid"] for item in response.json()["results"]} == {lab_kid}
    pharmacist = await service.client.post(
        "/v1/certificates", json=make_request(), headers=service.auth(service.pharmacist_key)
    )
    assert pharmacist.json()["kid"] == default_kid
    assert await _trust_kids(service) == {default_kid, lab_kid}
    hc1 = (await _issue(service, make_request))["hc1"]
    assert await _valid_against_published(service, hc1)
    retire_dsc(own_keys, lab_kid)

    async def refused() -> bool:
        response = await service.client.post(
            "/v1/certificates", json=make_request(), headers=service.auth()
        )
        return response.status_code == 503

    await async_wait_until(refused, what="503 for the scope once its only DSC is retired")
    other = await service.client.post(
        "/v1/certificates", json=make_request(), headers=service.auth(service.pharmacist_key)
    )
    assert other.status_code == 201


async def test_readiness_says_when_no_key_is_active(
    start_service: ServiceFactory, own_keys: Path
) -> None:
    service = await start_service({"keys_dir": own_keys})
    assert (await service.client.get("/readyz")).status_code == 200
    retire_dsc(own_keys, read_manifest(own_keys).dscs[0].kid)

    async def not_ready() -> bool:
        response = await service.client.get("/readyz")
        return response.status_code == 503 and response.json()["checks"]["keys"] is False

    await async_wait_until(not_ready, what="/readyz 503 once no DSC is active")


async def test_a_rotated_key_that_cannot_load_signs_nothing_and_is_reported(
    start_service: ServiceFactory, own_keys: Path, make_request: Any
) -> None:
    service = await start_service({"keys_dir": own_keys})
    rotated = rotate_dsc(own_keys, activates_at=datetime.now(UTC)).record
    (own_keys / str(rotated.key_file)).write_text("not a key")
    ring = service.resources.runtime.keyring

    async def refused() -> bool:
        response = await service.client.post(
            "/v1/certificates", json=make_request(), headers=service.auth()
        )
        return response.status_code == 503

    await async_wait_until(refused, what="503 while the DSC that should sign cannot load")
    assert ring.load_errors[rotated.kid].code == "key_file_invalid"
    assert await _published(service, rotated.kid)


async def test_revoking_our_own_dsc_stops_it_signing_and_drops_it_at_once(
    start_service: ServiceFactory, own_keys: Path, make_request: Any
) -> None:
    """The leak case on this deployment's own key: POST /v1/revocations/key revokes it in
    the keys folder too, so the service signs with the other active DSC and the trust list
    leaves the leaked one out, although certificates it signed have not expired."""
    service = await start_service({"keys_dir": own_keys})
    leaked = (await _issue(service, make_request))["kid"]
    fresh = rotate_dsc(own_keys, activates_at=datetime.now(UTC) - timedelta(seconds=1)).record
    created = await asyncio.to_thread(
        add_account, service.resources.settings.database_url, name="ops", role="operator"
    )
    await service.resources.accounts.refresh()
    response = await service.client.post(
        "/v1/revocations/key",
        json={"kid": leaked, "reason": "key_compromise"},
        headers=service.auth(created.api_key),
    )
    assert response.status_code == 200, response.text
    assert response.json()["signing_key"] is True
    assert read_manifest(own_keys).find(leaked).revoked_at is not None

    async def switched() -> bool:
        kids = await _trust_kids(service)
        return leaked not in kids and fresh.kid in kids

    await async_wait_until(switched, what="the leaked DSC left the trust list")
    assert (await _issue(service, make_request))["kid"] == fresh.kid
