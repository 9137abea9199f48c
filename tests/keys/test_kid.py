"""kid, base64 kid, thumbprint and subject country, checked against the EU LU test DSC."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from hypothesis import given, settings
from hypothesis import strategies as st

from keys.kid import KID_LENGTH, compute_kid, kid_b64, subject_country, thumbprint

LU_VECTOR = Path("LU/2DCode/raw/INCERT_R_DCC_Recovery.json")


@pytest.fixture(scope="module")
def lu_vector(testdata_dir: Path) -> dict[str, object]:
    """The LU recovery vector, whose TESTCTX.CERTIFICATE is the LU test DSC."""
    path = testdata_dir / LU_VECTOR
    if not path.exists():
        pytest.skip(f"{path} not found")
    vector: dict[str, object] = json.loads(path.read_text(encoding="utf-8"))
    return vector


@pytest.fixture(scope="module")
def lu_dsc(lu_vector: dict[str, object]) -> x509.Certificate:
    """The LU test DSC (P-256, no EKU)."""
    context = lu_vector["TESTCTX"]
    assert isinstance(context, dict)
    return x509.load_der_x509_certificate(base64.b64decode(context["CERTIFICATE"]))


def test_kid_of_lu_dsc_is_the_eu_value(lu_dsc: x509.Certificate) -> None:
    """The LU DSC's kid is mRxapyixSJ0= (hcert.md §1.3)."""
    kid = compute_kid(lu_dsc)
    assert kid == bytes.fromhex("991c5aa728b1489d")
    assert kid_b64(kid) == "mRxapyixSJ0="


def test_kid_matches_the_protected_header_of_the_lu_vector(
    lu_vector: dict[str, object], lu_dsc: x509.Certificate
) -> None:
    """The vector's COSE protected header {1: -7, 4: kid} carries exactly our kid."""
    cose = bytes.fromhex(str(lu_vector["COSE"]))
    protected_prefix = bytes.fromhex("a201260448")  # {1: -7, 4: bstr(8) ...
    start = cose.index(protected_prefix) + len(protected_prefix)
    assert cose[start : start + KID_LENGTH] == compute_kid(lu_dsc)


def test_thumbprint_is_lowercase_hex_sha256_of_der(lu_dsc: x509.Certificate) -> None:
    """thumbprint is the 64-char lower-case hex SHA-256 of the whole DER."""
    der = lu_dsc.public_bytes(serialization.Encoding.DER)
    value = thumbprint(lu_dsc)
    assert value == hashlib.sha256(der).hexdigest()
    assert len(value) == 64
    assert value == value.lower()
    assert bytes.fromhex(value)[:KID_LENGTH] == compute_kid(lu_dsc)


def test_subject_country(lu_dsc: x509.Certificate) -> None:
    """The LU DSC's subject country is LU."""
    assert subject_country(lu_dsc) == "LU"


@settings(max_examples=50, deadline=None)
@given(st.binary(min_size=KID_LENGTH, max_size=KID_LENGTH))
def test_kid_b64_round_trips_in_12_chars(kid: bytes) -> None:
    """Any 8-byte kid encodes to 12 standard-base64 characters and decodes back."""
    text = kid_b64(kid)
    assert len(text) == 12
    assert text.endswith("=")
    assert base64.b64decode(text, validate=True) == kid
