"""The signed trust list: COSE_Sign1 over CBOR, signed by the CSCA, with an expiry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from keys.generate import generate_keys
from keys.lifecycle import rotate_dsc
from keys.load import load_certificate
from keys.signed_list import TrustListSigner, verify_signed_trust_list
from signing.cbor import loads_strict
from signing.cose import parse_sign1
from signing.errors import KeyMaterialError

NOW = datetime(2026, 6, 1, tzinfo=UTC)


@pytest.fixture(params=["ES256", "PS256"])
def keys_dir(tmp_path: Path, request: pytest.FixtureRequest) -> Path:
    directory = tmp_path / "keys"
    generate_keys(directory, alg=request.param, now=NOW - timedelta(days=1))
    return directory


def _signed(directory: Path, validity: timedelta = timedelta(hours=48)) -> bytes:
    signer = TrustListSigner.from_directory(directory, None)
    assert signer is not None
    rotated = rotate_dsc(directory, activates_at=NOW, now=NOW - timedelta(hours=1))
    certs = [load_certificate(directory / "dsc.pem"), rotated.certificate]
    return signer.sign(certs, now=NOW, validity=validity)


def test_a_verifier_with_the_csca_reads_the_dscs(keys_dir: Path) -> None:
    signed = _signed(keys_dir)
    csca = load_certificate(keys_dir / "csca.pem")
    certs = verify_signed_trust_list(signed, csca, now=NOW + timedelta(hours=47))
    assert len(certs) == 2
    assert certs[0] == load_certificate(keys_dir / "dsc.pem")
    payload = loads_strict(parse_sign1(signed).payload)
    assert isinstance(payload, dict)
    assert payload["iss"] == "LU"
    assert payload["exp"] - payload["iat"] == 48 * 3600


def test_expired_tampered_or_foreign_lists_are_refused(keys_dir: Path, tmp_path: Path) -> None:
    signed = _signed(keys_dir, validity=timedelta(hours=1))
    csca = load_certificate(keys_dir / "csca.pem")
    with pytest.raises(KeyMaterialError) as caught:
        verify_signed_trust_list(signed, csca, now=NOW + timedelta(hours=2))
    assert caught.value.code == "trust_list_expired"
    flipped = bytearray(signed)
    flipped[len(signed) // 2] ^= 1
    with pytest.raises(KeyMaterialError) as caught:
        verify_signed_trust_list(bytes(flipped), csca, now=NOW)
    assert caught.value.code in {"trust_list_signature_invalid", "trust_list_invalid"}
    other = tmp_path / "other"
    generate_keys(other, now=NOW - timedelta(days=1))
    with pytest.raises(KeyMaterialError) as caught:
        verify_signed_trust_list(signed, load_certificate(other / "csca.pem"), now=NOW)
    assert caught.value.code == "trust_list_signature_invalid"
    with pytest.raises(KeyMaterialError) as caught:
        verify_signed_trust_list(b"\x00" * 10, csca, now=NOW)
    assert caught.value.code == "trust_list_invalid"


def test_no_csca_key_no_signer(keys_dir: Path) -> None:
    (keys_dir / "csca.key").unlink()
    assert TrustListSigner.from_directory(keys_dir, None) is None
