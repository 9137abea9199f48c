"""allowed_cert_types against the EU key-usage vectors (both OID arcs) and generated DSCs."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cbor2
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from keys._der import DerError, extension_value, parse_oid_sequence
from keys.eku import (
    ALL_CERT_TYPES,
    OID_DCC_RECOVERY,
    OID_DCC_RECOVERY_EARLY,
    OID_DCC_TEST,
    OID_DCC_TEST_EARLY,
    OID_DCC_VACCINATION,
    OID_DCC_VACCINATION_EARLY,
    OID_FOR_TYPE,
    CertType,
    allowed_cert_types,
)
from keys.generate import generate_keys
from keys.load import load_certificate
from signing.errors import KeyMaterialError

KEY_USAGE_VECTORS = ("CO6", "CO7", "CO8", "CO9", "CO10", "CO12", "CO13", "CO14", "CO15")
TYPE_FOR_PAYLOAD_KEY: dict[str, CertType] = {"t": "test", "v": "vaccination", "r": "recovery"}
EKU_OID_DER = bytes.fromhex("0603551d25")


def _vector(testdata_dir: Path, name: str) -> dict[str, object]:
    path = testdata_dir / "common" / "2DCode" / "raw" / f"{name}.json"
    if not path.exists():
        pytest.skip(f"{path} not found")
    vector: dict[str, object] = json.loads(path.read_text(encoding="utf-8"))
    return vector


def _dsc_der(vector: dict[str, object]) -> bytes:
    context = vector["TESTCTX"]
    assert isinstance(context, dict)
    return base64.b64decode(context["CERTIFICATE"])


def _payload_type(vector: dict[str, object]) -> CertType:
    payload = cbor2.loads(bytes.fromhex(str(vector["CBOR"])))
    (key,) = [k for k in payload if k in TYPE_FOR_PAYLOAD_KEY]
    return TYPE_FOR_PAYLOAD_KEY[key]


def _self_signed(eku: Sequence[x509.ObjectIdentifier] | None) -> x509.Certificate:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "LU")])
    start = datetime(2025, 1, 1, tzinfo=UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=30))
    )
    if eku is not None:
        builder = builder.add_extension(x509.ExtendedKeyUsage(list(eku)), critical=False)
    return builder.sign(key, hashes.SHA256())


def test_oid_constants() -> None:
    """The six OIDs are the JRC arcs; OID_FOR_TYPE uses the current one."""
    assert OID_DCC_TEST.dotted_string == "1.3.6.1.4.1.1847.2021.1.1"
    assert OID_DCC_VACCINATION.dotted_string == "1.3.6.1.4.1.1847.2021.1.2"
    assert OID_DCC_RECOVERY.dotted_string == "1.3.6.1.4.1.1847.2021.1.3"
    assert OID_DCC_TEST_EARLY.dotted_string == "1.3.6.1.4.1.0.1847.2021.1.1"
    assert OID_DCC_VACCINATION_EARLY.dotted_string == "1.3.6.1.4.1.0.1847.2021.1.2"
    assert OID_DCC_RECOVERY_EARLY.dotted_string == "1.3.6.1.4.1.0.1847.2021.1.3"
    assert OID_FOR_TYPE == {
        "test": OID_DCC_TEST,
        "vaccination": OID_DCC_VACCINATION,
        "recovery": OID_DCC_RECOVERY,
    }
    assert frozenset(["test", "vaccination", "recovery"]) == ALL_CERT_TYPES


@pytest.mark.parametrize("name", KEY_USAGE_VECTORS)
def test_eu_key_usage_vectors(testdata_dir: Path, name: str) -> None:
    """For CO6–CO15, 'payload type allowed' equals EXPECTEDKEYUSAGE (early-arc OIDs, empty EKU)."""
    vector = _vector(testdata_dir, name)
    expected = vector["EXPECTEDRESULTS"]
    assert isinstance(expected, dict)
    cert = x509.load_der_x509_certificate(_dsc_der(vector))
    assert (_payload_type(vector) in allowed_cert_types(cert)) is expected["EXPECTEDKEYUSAGE"]


@pytest.mark.parametrize(
    ("name", "types"),
    [
        ("CO6", {"test"}),
        ("CO12", {"test"}),
        ("CO8", {"vaccination"}),
        ("CO13", {"vaccination"}),
        ("CO10", {"recovery"}),
        ("CO14", {"recovery"}),
        ("CO15", {"test", "vaccination", "recovery"}),  # empty EKU SEQUENCE
    ],
)
def test_eu_vector_types_exactly(testdata_dir: Path, name: str, types: set[str]) -> None:
    """The exact set each EU vector's DSC allows."""
    cert = x509.load_der_x509_certificate(_dsc_der(_vector(testdata_dir, name)))
    assert allowed_cert_types(cert) == types


def test_lu_dsc_without_eku_allows_everything(testdata_dir: Path) -> None:
    """The LU test DSC has no EKU extension at all: every type is allowed."""
    path = testdata_dir / "LU" / "2DCode" / "raw" / "INCERT_R_DCC_Recovery.json"
    if not path.exists():
        pytest.skip(f"{path} not found")
    vector = json.loads(path.read_text(encoding="utf-8"))
    cert = x509.load_der_x509_certificate(base64.b64decode(vector["TESTCTX"]["CERTIFICATE"]))
    with pytest.raises(x509.ExtensionNotFound):
        cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    assert allowed_cert_types(cert) == ALL_CERT_TYPES


def test_empty_eku_is_read_by_the_der_fallback(testdata_dir: Path) -> None:
    """cryptography refuses CO15's empty EKU; the DER reader finds it and it is empty."""
    der = _dsc_der(_vector(testdata_dir, "CO15"))
    cert = x509.load_der_x509_certificate(der)
    with pytest.raises(ValueError):
        _ = cert.extensions
    (value,) = extension_value(der, "2.5.29.37")
    assert parse_oid_sequence(value) == []


def test_der_reader_agrees_with_cryptography(testdata_dir: Path) -> None:
    """On a parseable EKU (CO6) the DER reader returns cryptography's OIDs."""
    der = _dsc_der(_vector(testdata_dir, "CO6"))
    (value,) = extension_value(der, "2.5.29.37")
    assert parse_oid_sequence(value) == [OID_DCC_TEST_EARLY.dotted_string]
    assert extension_value(der, "2.5.29.99") == []


def test_unreadable_eku_is_refused(testdata_dir: Path) -> None:
    """An EKU that is a SET instead of a SEQUENCE raises certificate_eku_invalid, not 'all'."""
    der = _dsc_der(_vector(testdata_dir, "CO15"))
    empty_eku = EKU_OID_DER + bytes.fromhex("04023000")
    assert der.count(empty_eku) == 1
    broken = der.replace(empty_eku, EKU_OID_DER + bytes.fromhex("04023100"))
    cert = x509.load_der_x509_certificate(broken)
    with pytest.raises(KeyMaterialError) as info:
        allowed_cert_types(cert)
    assert info.value.code == "certificate_eku_invalid"


@pytest.mark.parametrize(
    "data", [b"", b"\x30", b"\x30\x05\x06", b"\x31\x00", b"\x30\x02\x04\x00", b"\x30\x02\x06\x00"]
)
def test_der_reader_rejects_malformed_input(data: bytes) -> None:
    """Truncated, wrongly tagged or empty-OID DER raises DerError (a ValueError)."""
    with pytest.raises(DerError):
        parse_oid_sequence(data)


@pytest.mark.parametrize(
    ("eku", "types"),
    [
        ([OID_DCC_TEST], {"test"}),
        ([OID_DCC_TEST_EARLY, OID_DCC_RECOVERY], {"test", "recovery"}),
        ([OID_DCC_VACCINATION_EARLY, OID_DCC_VACCINATION], {"vaccination"}),
        ([OID_DCC_RECOVERY_EARLY, ExtendedKeyUsageOID.CODE_SIGNING], {"recovery"}),
        ([ExtendedKeyUsageOID.CODE_SIGNING], {"test", "vaccination", "recovery"}),
        (None, {"test", "vaccination", "recovery"}),
    ],
)
def test_arcs_are_equivalent_and_unrelated_oids_ignored(
    eku: list[x509.ObjectIdentifier] | None, types: set[str]
) -> None:
    """Both arcs count; only unrelated OIDs (or no EKU) mean every type."""
    assert allowed_cert_types(_self_signed(eku)) == types


@pytest.mark.parametrize(
    "cert_types",
    [("test",), ("vaccination", "recovery"), ("test", "vaccination", "recovery"), ()],
)
def test_generated_dsc_allows_what_was_asked(
    tmp_path: Path, cert_types: tuple[CertType, ...]
) -> None:
    """generate_keys' EKU round-trips through allowed_cert_types (empty = no EKU = all)."""
    generated = generate_keys(tmp_path / "keys", cert_types=cert_types)
    cert = load_certificate(generated.dsc_cert_path)
    assert allowed_cert_types(cert) == (frozenset(cert_types) or ALL_CERT_TYPES)
    pem = generated.dsc_cert_path.read_bytes()
    assert cert.public_bytes(serialization.Encoding.PEM) == pem
