"""Imported trust lists in the service: foreign certificates verify, an unknown issuer is
"cannot check", and a list written while the service runs is used without a restart."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from api.settings import Settings
from api.trust_lists import ImportedTrustLists
from keys.load import SigningKeys
from signing.errors import KeyMaterialError
from tests.foreign import foreign_hc1, foreign_keys, gateway_list, german_list
from tests.waiting import async_wait_until

STAMP = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def italy(tmp_path_factory: pytest.TempPathFactory) -> SigningKeys:
    return foreign_keys(tmp_path_factory.mktemp("IT"), "IT")


@pytest.fixture(scope="module")
def france(tmp_path_factory: pytest.TempPathFactory) -> SigningKeys:
    return foreign_keys(tmp_path_factory.mktemp("FR"), "FR")


async def test_a_foreign_certificate_verifies_once_its_list_is_loaded_without_restart(
    start_service: Any, tmp_path: Path, italy: SigningKeys, make_request: Any
) -> None:
    service = await start_service({"trust_lists_refresh": 0.05})
    hc1 = foreign_hc1(italy)
    before = (await service.client.post("/v1/verify", json={"hc1": hc1})).json()
    assert before["verdict"] == "issuer_unknown"
    assert before["error"]["code"] == "kid_unknown"
    assert "signature" not in [check["name"] for check in before["checks"]]
    metrics = (await service.client.get("/metrics")).text
    assert 'dcc_verifications_total{input="hc1",result="issuer_unknown"} 1.0' in metrics
    folder = tmp_path / "trust"
    folder.mkdir()
    (folder / "eu-gateway.json").write_bytes(gateway_list(italy, stamp=STAMP))
    lists = service.resources.trust_lists
    await async_wait_until(lambda: len(lists.store) == 1, what="the new list is loaded")
    after = (await service.client.post("/v1/verify", json={"hc1": hc1})).json()
    assert after["valid"] is True, after
    assert after["verdict"] == "valid"
    assert after["issuer"] == "IT"
    assert after["trust_list"] == {
        "name": "eu-gateway.json",
        "kind": "gateway",
        "updated_at": "2026-11-30T08:00:00Z",
    }
    # The service's own certificates still verify, without a trust_list (own key).
    own = await service.client.post("/v1/certificates", json=make_request(), headers=service.auth())
    mine = (await service.client.post("/v1/verify", json={"hc1": own.json()["hc1"]})).json()
    assert mine["valid"] is True
    assert "trust_list" not in mine
    # Removing the list removes the trust.
    (folder / "eu-gateway.json").unlink()
    await async_wait_until(lambda: len(lists.store) == 0, what="the list is dropped")
    gone = (await service.client.post("/v1/verify", json={"hc1": hc1})).json()
    assert gone["verdict"] == "issuer_unknown"


def test_a_bad_update_keeps_the_last_good_list(
    tmp_path: Path, italy: SigningKeys, france: SigningKeys, caplog: pytest.LogCaptureFixture
) -> None:
    publisher = ec.generate_private_key(ec.SECP256R1())
    signed = tmp_path / "de.txt"
    signed.write_bytes(german_list(gateway_list(italy), publisher))
    lists = ImportedTrustLists((tmp_path,), signer_keys=(publisher.public_key(),))
    assert lists.refresh(strict=True)
    assert [info.kind for info in lists.sources] == ["de-signed"]
    assert not lists.refresh()  # nothing changed on disk
    forged = german_list(gateway_list(italy, france), ec.generate_private_key(ec.SECP256R1()))
    signed.write_bytes(forged + b"\n")  # another size: seen as changed
    with caplog.at_level(logging.WARNING, logger="api.trust_lists"):
        assert not lists.refresh()
    assert "trust_list_signature_invalid" in caplog.text
    assert len(lists.store) == 1  # still Italy alone, from the last good version
    own = lists.with_own(lists.store)
    assert lists.with_own(lists.store) is own  # combined once per version
    with pytest.raises(KeyMaterialError) as refused:
        ImportedTrustLists((tmp_path,)).refresh(strict=True)
    assert refused.value.code == "trust_list_key_missing"


async def test_a_bad_list_stops_the_service_at_start_up(start_service: Any, tmp_path: Path) -> None:
    folder = tmp_path / "trust"
    folder.mkdir()
    (folder / "broken.json").write_text('{"certificates": 3}', encoding="utf-8")
    with pytest.raises(KeyMaterialError) as refused:
        await start_service()
    assert refused.value.code == "trust_list_invalid"
    assert "broken.json" in refused.value.message


def test_the_publisher_keys_come_from_the_settings(tmp_path: Path, italy: SigningKeys) -> None:
    publisher = ec.generate_private_key(ec.SECP256R1())
    key_file = tmp_path / "pubkey.pem"
    key_file.write_bytes(
        publisher.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    (tmp_path / "lists").mkdir()
    (tmp_path / "lists" / "de.txt").write_bytes(german_list(gateway_list(italy), publisher))
    settings = Settings.from_env(
        {
            "DCC_TRUST_LISTS": f"{tmp_path / 'lists'}:{tmp_path / 'missing.json'}",
            "DCC_TRUST_LIST_KEYS": str(key_file),
            "DCC_TRUST_LISTS_REFRESH_SECONDS": "2",
        }
    )
    assert settings.trust_lists == (tmp_path / "lists", tmp_path / "missing.json")
    assert settings.trust_lists_refresh == 2
    lists = ImportedTrustLists.open(settings)
    assert len(lists.store) == 1
    assert lists.refresh_seconds == 2
