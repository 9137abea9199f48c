"""verifier.trust_lists: gateway and German signed lists, their age, combined stores, and
the "cannot check this issuer" verdict for a kid no list holds."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from keys.kid import compute_kid
from keys.load import SigningKeys
from signing.errors import KeyMaterialError
from tests.foreign import foreign_hc1, foreign_keys, gateway_list, german_list
from verifier import TrustStore, verify
from verifier.trust_lists import (
    load_signer_keys,
    read_trust_list,
    read_trust_list_file,
    trust_list_files,
)

NOW = datetime(2021, 7, 8, 12, 31, tzinfo=UTC)


@pytest.fixture(scope="module")
def italy(tmp_path_factory: pytest.TempPathFactory) -> SigningKeys:
    return foreign_keys(tmp_path_factory.mktemp("IT"), "IT", now=NOW)


@pytest.fixture(scope="module")
def germany(tmp_path_factory: pytest.TempPathFactory) -> SigningKeys:
    return foreign_keys(tmp_path_factory.mktemp("DE"), "DE", now=NOW)


def _hc1(keys: SigningKeys) -> str:
    return foreign_hc1(keys, now=NOW)


def _gateway(*keys: SigningKeys, stamp: str = "2021-07-01T10:00:00+02:00") -> bytes:
    return gateway_list(*keys, stamp=datetime.fromisoformat(stamp))


def _signed(content: bytes, key: ec.EllipticCurvePrivateKey, *, raw: bool = True) -> bytes:
    return german_list(content, key, raw=raw)


def test_a_gateway_list_trusts_its_dscs_and_dates_itself_by_its_newest_entry(
    italy: SigningKeys, germany: SigningKeys
) -> None:
    store = read_trust_list(_gateway(italy, germany), name="eu.json")
    assert len(store) == 2
    assert compute_kid(italy.certificate) in store
    (info,) = store.sources
    assert (info.name, info.kind, info.count, info.countries) == (
        "eu.json",
        "gateway",
        2,
        ("DE", "IT"),
    )
    assert info.updated_at == datetime(2021, 7, 1, 8, tzinfo=UTC)
    report = verify(_hc1(italy), trust=store, now=NOW)
    assert report.valid, report.to_dict()
    assert report.to_dict()["trust_list"] == {
        "name": "eu.json",
        "kind": "gateway",
        "updated_at": "2021-07-01T08:00:00Z",
    }


def test_a_gateway_entry_whose_thumbprint_does_not_match_is_refused(italy: SigningKeys) -> None:
    entries = json.loads(_gateway(italy))
    entries[0]["thumbprint"] = "00" * 32
    with pytest.raises(KeyMaterialError) as caught:
        read_trust_list(json.dumps({"certificates": entries}).encode(), name="x")
    assert caught.value.code == "trust_list_invalid"
    assert "thumbprint" in caught.value.message


@pytest.mark.parametrize("raw", [True, False], ids=["raw-r-s", "der"])
def test_the_german_list_is_trusted_only_with_its_publisher_signature(
    italy: SigningKeys, raw: bool
) -> None:
    publisher = ec.generate_private_key(ec.SECP256R1())
    content = json.dumps({"certificates": json.loads(_gateway(italy))}).encode()
    signed = _signed(content, publisher, raw=raw)
    store = read_trust_list(signed, name="de.txt", signer_keys=[publisher.public_key()])
    assert store.sources[0].kind == "de-signed"
    assert verify(_hc1(italy), trust=store, now=NOW).valid
    with pytest.raises(KeyMaterialError) as missing:
        read_trust_list(signed, name="de.txt")
    assert missing.value.code == "trust_list_key_missing"
    stranger = ec.generate_private_key(ec.SECP256R1()).public_key()
    with pytest.raises(KeyMaterialError) as wrong:
        read_trust_list(signed, name="de.txt", signer_keys=[stranger])
    assert wrong.value.code == "trust_list_signature_invalid"
    tampered = signed.replace(b'"country": "IT"', b'"country": "XX"', 1)
    assert tampered != signed
    with pytest.raises(KeyMaterialError) as altered:
        read_trust_list(tampered, name="de.txt", signer_keys=[publisher.public_key()])
    assert altered.value.code == "trust_list_signature_invalid"


def test_files_folders_and_publisher_keys(tmp_path: Path, italy: SigningKeys) -> None:
    folder = tmp_path / "lists"
    folder.mkdir()
    (folder / "eu.json").write_bytes(_gateway(italy))
    (folder / ".eu.json.tmp").write_bytes(b"half written")
    pem = italy.certificate.public_bytes(serialization.Encoding.PEM)
    (tmp_path / "own.pem").write_bytes(pem)
    files = trust_list_files([folder, tmp_path / "own.pem", tmp_path / "missing"])
    assert files == [folder / "eu.json", tmp_path / "own.pem"]
    single = read_trust_list_file(tmp_path / "own.pem")
    assert single.sources[0].kind == "certificates"
    assert single.sources[0].updated_at is not None  # the file's modification time
    publisher = ec.generate_private_key(ec.SECP256R1())
    key_file = tmp_path / "pubkey.pem"
    key_file.write_bytes(
        publisher.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    assert len(load_signer_keys([key_file])) == 1
    (tmp_path / "bad.pem").write_bytes(b"not a key")
    with pytest.raises(KeyMaterialError) as bad:
        load_signer_keys([tmp_path / "bad.pem"])
    assert bad.value.code == "trust_list_key_invalid"
    with pytest.raises(KeyMaterialError) as unreadable:
        read_trust_list_file(tmp_path / "missing")
    assert unreadable.value.code == "trust_file_unreadable"


def test_an_unknown_issuer_is_cannot_check_never_forged(
    italy: SigningKeys, germany: SigningKeys
) -> None:
    hc1 = _hc1(italy)
    report = verify(hc1, trust=read_trust_list(_gateway(germany), name="de"), now=NOW)
    document = report.to_dict()
    assert document["valid"] is False
    assert document["verdict"] == "issuer_unknown"
    assert document["error"]["code"] == "kid_unknown"
    assert [c["name"] for c in document["checks"] if not c["ok"]] == ["kid"]
    assert "signature" not in [c["name"] for c in document["checks"]]
    # Unknown and expired: invalid whoever issued it.
    late = verify(hc1, trust=[germany.certificate], now=NOW + timedelta(days=30))
    assert late.verdict == "invalid"
    assert late.error is not None
    assert late.error.code == "kid_unknown"


def test_combined_stores_keep_each_source(italy: SigningKeys, germany: SigningKeys) -> None:
    own = TrustStore([germany.certificate])
    imported = read_trust_list(_gateway(italy, germany), name="eu.json")
    both = TrustStore.combined([own, imported])
    assert len(both) == 2
    assert [info.name for info in both.sources] == ["eu.json"]  # own has no source info
    assert verify(_hc1(germany), trust=both, now=NOW).trust_list is None  # own key first
    assert verify(_hc1(italy), trust=both, now=NOW).trust_list == imported.sources[0]
