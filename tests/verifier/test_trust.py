"""verifier.trust: the trust store, from certificates, bytes and files, and odd key types."""

from __future__ import annotations

import base64
import dataclasses
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cbor2
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import NameOID

from hcert.hc1 import encode_hc1
from keys.eku import allowed_cert_types
from keys.generate import generate_keys
from keys.kid import compute_kid
from keys.load import SigningKeys, load_signing_keys
from keys.trust_list import export_trust_list
from signing.algorithms import ES256
from signing.errors import KeyMaterialError
from verifier import TrustStore, verify

NOW = datetime(2021, 7, 8, 12, 31, tzinfo=UTC)


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> SigningKeys:
    folder: Path = tmp_path_factory.mktemp("es256")
    generate_keys(folder, now=NOW - timedelta(days=1))
    return load_signing_keys(folder, now=NOW)


def _self_signed(key: ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey) -> x509.Certificate:
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, "odd"),
            x509.NameAttribute(NameOID.COUNTRY_NAME, "LU"),
        ]
    )
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(NOW - timedelta(days=1))
        .not_valid_after(NOW + timedelta(days=1))
    )
    algorithm = None if isinstance(key, ed25519.Ed25519PrivateKey) else hashes.SHA256()
    return builder.sign(key, algorithm)


def test_lookup_by_kid(keys: SigningKeys) -> None:
    store = TrustStore.from_certificates([keys.certificate, keys.certificate])
    assert len(store) == 1
    assert keys.kid in store
    assert bytes(8) not in store
    (entry,) = store.candidates(keys.kid)
    assert entry.certificate == keys.certificate
    assert entry.kid == keys.kid
    assert entry.public_key is not None
    assert store.candidates(bytes(8)) == ()
    assert "1 certificates" in repr(store)


def test_allowed_cert_types_are_read_once_per_entry(keys: SigningKeys) -> None:
    (entry,) = TrustStore.from_certificates([keys.certificate]).candidates(keys.kid)
    first = entry.allowed_cert_types()
    assert first == allowed_cert_types(keys.certificate)
    assert entry.allowed_cert_types() is first
    assert entry == dataclasses.replace(entry)  # the memo takes no part in equality


def test_from_bytes_in_every_form(keys: SigningKeys) -> None:
    der = keys.certificate.public_bytes(serialization.Encoding.DER)
    pem = keys.certificate.public_bytes(serialization.Encoding.PEM)
    listing = json.dumps(export_trust_list([keys.certificate])).encode()
    german = (
        b"c2lnbmF0dXJl\n"
        + json.dumps({"certificates": export_trust_list([keys.certificate])}).encode()
    )
    for data in (der, pem, base64.b64encode(der), listing, german):
        store = TrustStore.from_bytes(data)
        assert keys.kid in store, data[:20]


def test_from_files(keys: SigningKeys, tmp_path: Path) -> None:
    pem = tmp_path / "dsc.pem"
    pem.write_bytes(keys.certificate.public_bytes(serialization.Encoding.PEM))
    assert keys.kid in TrustStore.from_files([pem, pem])
    with pytest.raises(KeyMaterialError) as missing:
        TrustStore.from_files([tmp_path / "nope.pem"])
    assert missing.value.code == "trust_file_unreadable"
    assert "nope.pem" in missing.value.message
    garbage = tmp_path / "garbage.json"
    garbage.write_text("{not json")
    with pytest.raises(KeyMaterialError) as invalid:
        TrustStore.from_files([garbage])
    assert invalid.value.code == "trust_list_invalid"
    assert "garbage.json" in invalid.value.message


@pytest.mark.parametrize(
    ("key", "code"),
    [
        (ed25519.Ed25519PrivateKey.generate(), "key_type_unsupported"),
        (ec.generate_private_key(ec.SECP384R1()), "key_curve_unsupported"),
    ],
)
def test_unusable_certificate_keys(
    key: ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey, code: str
) -> None:
    certificate = _self_signed(key)
    kid = compute_kid(certificate)
    protected = cbor2.dumps({1: ES256, 4: kid})
    payload = cbor2.dumps({1: "LU", 4: 2_000_000_000, 6: 1_600_000_000, -260: {1: {}}})
    cose = cbor2.dumps(cbor2.CBORTag(18, [protected, {}, payload, bytes(64)]))
    report = verify(encode_hc1(cose), trust=[certificate], now=NOW)
    assert report.error is not None
    assert (report.error.check, report.error.code) == ("signature", code)
