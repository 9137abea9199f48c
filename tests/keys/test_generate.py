"""generate_keys: the CSCA and DSC templates of hcert.md §5, file modes, encryption, refusals."""

from __future__ import annotations

import os
import stat
from dataclasses import FrozenInstanceError
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID

from keys.eku import OID_DCC_TEST, OID_DCC_VACCINATION
from keys.generate import GeneratedKeys, generate_keys
from keys.kid import compute_kid
from keys.load import load_certificate, load_signing_keys
from signing.algorithms import ES256, PS256, sign_raw, verify_raw
from signing.errors import KeyMaterialError

NOW = datetime(2024, 2, 29, 9, 30, 15, 123456, tzinfo=UTC)  # a leap day, with microseconds
START = NOW.replace(microsecond=0)
PASSPHRASE = b"correct horse battery staple"
Ext = TypeVar("Ext", bound=x509.ExtensionType)


@pytest.fixture(scope="module", params=["ES256", "PS256"])
def generated(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> GeneratedKeys:
    """One PKI per algorithm (RSA is slow: once per module); the PS256 one is encrypted."""
    alg: str = request.param
    directory = tmp_path_factory.mktemp(alg) / "nested" / "keys"
    passphrase = PASSPHRASE if alg == "PS256" else None
    return generate_keys(directory, alg=alg, country="LU", now=NOW, passphrase=passphrase)


def _alg(generated: GeneratedKeys) -> str:
    return "PS256" if "PS256" in str(generated.dsc_key_path) else "ES256"


def _certs(generated: GeneratedKeys) -> tuple[x509.Certificate, x509.Certificate]:
    return load_certificate(generated.csca_cert_path), load_certificate(generated.dsc_cert_path)


def _ext(cert: x509.Certificate, kind: type[Ext]) -> x509.Extension[Ext]:
    return cert.extensions.get_extension_for_class(kind)


def test_files_and_modes(generated: GeneratedKeys) -> None:
    """Four key files and the manifest in a 0700 directory; private keys 0600; no temporary
    files left."""
    directory = generated.dsc_key_path.parent
    assert sorted(p.name for p in directory.iterdir()) == [
        "csca.key",
        "csca.pem",
        "dsc.key",
        "dsc.pem",
        "keys.json",
    ]
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    for key_path in (generated.dsc_key_path, generated.csca_key_path):
        assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    for cert_path in (generated.dsc_cert_path, generated.csca_cert_path):
        assert stat.S_IMODE(cert_path.stat().st_mode) & 0o022 == 0
    assert generated.csca_cert_path == directory / "csca.pem"
    assert generated.dsc_cert_path == directory / "dsc.pem"


def test_private_keys_are_pkcs8_and_encrypted_with_a_passphrase(generated: GeneratedKeys) -> None:
    """PKCS#8 PEM; encrypted (and only loadable with the passphrase) when one was given."""
    encrypted = _alg(generated) == "PS256"
    for key_path in (generated.dsc_key_path, generated.csca_key_path):
        pem = key_path.read_bytes()
        if encrypted:
            assert pem.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
            with pytest.raises(TypeError):
                serialization.load_pem_private_key(pem, password=None)
            with pytest.raises(ValueError):
                serialization.load_pem_private_key(pem, password=b"wrong")
            assert serialization.load_pem_private_key(pem, password=PASSPHRASE) is not None
        else:
            assert pem.startswith(b"-----BEGIN PRIVATE KEY-----")


def test_csca_template(generated: GeneratedKeys) -> None:
    """Self-signed CA, pathLen 0, critical keyCertSign+cRLSign, SKI, subject, 4 years."""
    csca, _ = _certs(generated)
    assert csca.subject == csca.issuer
    csca.verify_directly_issued_by(csca)
    constraints = _ext(csca, x509.BasicConstraints)
    assert constraints.critical
    assert constraints.value.ca
    assert constraints.value.path_length == 0
    usage = _ext(csca, x509.KeyUsage)
    assert usage.critical
    assert usage.value.key_cert_sign
    assert usage.value.crl_sign
    assert not usage.value.digital_signature
    ski = _ext(csca, x509.SubjectKeyIdentifier).value
    assert ski == x509.SubjectKeyIdentifier.from_public_key(csca.public_key())
    assert csca.subject.rfc4514_string() == "C=LU,O=dcc-service test,CN=LU CSCA TEST (dcc-service)"
    assert csca.not_valid_before_utc == START
    assert csca.not_valid_after_utc == datetime(2028, 2, 29, 9, 30, 15, tzinfo=UTC)


def test_dsc_template(generated: GeneratedKeys) -> None:
    """Signed by the CSCA; digitalSignature; AKI = CSCA SKI; SKI; test EKU; C=LU; 2 years."""
    csca, dsc = _certs(generated)
    dsc.verify_directly_issued_by(csca)
    assert dsc.issuer == csca.subject
    assert dsc.subject.rfc4514_string() == "C=LU,O=dcc-service test,CN=LU DSC TEST (dcc-service)"
    assert dsc.subject.get_attributes_for_oid(NameOID.COUNTRY_NAME)[0].value == "LU"
    assert dsc.serial_number != csca.serial_number
    assert dsc.serial_number.bit_length() > 64
    usage = _ext(dsc, x509.KeyUsage)
    assert usage.critical
    assert usage.value.digital_signature
    assert not usage.value.key_cert_sign
    aki = _ext(dsc, x509.AuthorityKeyIdentifier)
    assert not aki.critical
    csca_ski = _ext(csca, x509.SubjectKeyIdentifier).value
    assert aki.value.key_identifier == csca_ski.digest
    dsc_ski = _ext(dsc, x509.SubjectKeyIdentifier).value
    assert dsc_ski == x509.SubjectKeyIdentifier.from_public_key(dsc.public_key())
    assert dsc_ski.digest != csca_ski.digest
    eku = _ext(dsc, x509.ExtendedKeyUsage)
    assert not eku.critical
    assert list(eku.value) == [OID_DCC_TEST]
    assert dsc.not_valid_before_utc == START
    # 2026 has no 29 February: the end date falls back to the 28th
    assert dsc.not_valid_after_utc == datetime(2026, 2, 28, 9, 30, 15, tzinfo=UTC)
    assert dsc.not_valid_after_utc < csca.not_valid_after_utc
    assert generated.kid == compute_kid(dsc)


def test_key_types_and_signature_hashes(generated: GeneratedKeys) -> None:
    """ES256: P-256 keys and ecdsa-with-SHA256; PS256: RSA 2048 keys (the spec's) and SHA-256."""
    csca, dsc = _certs(generated)
    for cert in (csca, dsc):
        assert cert.signature_hash_algorithm is not None
        assert cert.signature_hash_algorithm.name == "sha256"
        key = cert.public_key()
        if _alg(generated) == "ES256":
            assert isinstance(key, ec.EllipticCurvePublicKey)
            assert isinstance(key.curve, ec.SECP256R1)
        else:
            assert isinstance(key, rsa.RSAPublicKey)
            assert key.key_size == 2048
    if _alg(generated) == "PS256":
        assert isinstance(dsc.signature_algorithm_parameters, padding.PKCS1v15)


def test_generated_keys_load_and_sign(generated: GeneratedKeys) -> None:
    """The loader accepts what the generator wrote, and the key signs verifiable COSE bytes."""
    encrypted = _alg(generated) == "PS256"
    keys = load_signing_keys(
        generated.dsc_key_path.parent,
        passphrase=PASSPHRASE if encrypted else None,
        now=NOW + timedelta(days=1),
    )
    assert keys.alg == (PS256 if encrypted else ES256)
    assert keys.kid == generated.kid
    assert keys.country == "LU"
    assert keys.cert_types == {"test"}
    assert keys.csca is not None
    signature = sign_raw(keys.private_key, keys.alg, b"to be signed")
    public_key = keys.certificate.public_key()
    assert isinstance(public_key, ec.EllipticCurvePublicKey | rsa.RSAPublicKey)
    verify_raw(public_key, keys.alg, b"to be signed", signature)


def test_generated_keys_is_frozen(generated: GeneratedKeys) -> None:
    """GeneratedKeys cannot be changed after the fact."""
    with pytest.raises(FrozenInstanceError):
        generated.kid = b"12345678"  # type: ignore[misc]


def test_rsa_3072_stays_an_option_and_other_sizes_are_refused(tmp_path: Path) -> None:
    generated = generate_keys(tmp_path / "big", alg="PS256", now=NOW, rsa_bits=3072)
    key = load_certificate(generated.dsc_cert_path).public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    assert key.key_size == 3072
    with pytest.raises(KeyMaterialError) as info:
        generate_keys(tmp_path / "small", alg="PS256", now=NOW, rsa_bits=1024)
    assert info.value.code == "rsa_bits_unsupported"
    assert not (tmp_path / "small").exists()


def test_refuses_to_overwrite_unless_asked(tmp_path: Path) -> None:
    """A second run raises keys_exist and leaves the files alone; overwrite=True replaces them."""
    first = generate_keys(tmp_path, now=NOW)
    before = first.dsc_key_path.read_bytes()
    with pytest.raises(KeyMaterialError) as info:
        generate_keys(tmp_path, now=NOW)
    assert info.value.code == "keys_exist"
    assert str(first.dsc_key_path) in info.value.message
    assert first.dsc_key_path.read_bytes() == before
    first.dsc_key_path.chmod(0o644)
    second = generate_keys(tmp_path, now=NOW, overwrite=True)
    assert second.kid != first.kid
    assert second.dsc_key_path.read_bytes() != before
    assert stat.S_IMODE(second.dsc_key_path.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_any_existing_file_blocks_generation(tmp_path: Path) -> None:
    """Even a lone csca.pem counts as existing key material."""
    (tmp_path / "csca.pem").write_bytes(b"x")
    with pytest.raises(KeyMaterialError) as info:
        generate_keys(tmp_path)
    assert info.value.code == "keys_exist"
    assert not (tmp_path / "dsc.key").exists()


def test_country_organisation_and_cert_types_are_used(tmp_path: Path) -> None:
    """Another country, organisation and EKU list end up in the certificates."""
    generated = generate_keys(
        tmp_path, country="BE", organisation="Test Lab", cert_types=("vaccination", "test")
    )
    csca, dsc = _certs(generated)
    assert dsc.subject.rfc4514_string() == "C=BE,O=Test Lab,CN=BE DSC TEST (dcc-service)"
    assert csca.subject.rfc4514_string() == "C=BE,O=Test Lab,CN=BE CSCA TEST (dcc-service)"
    assert list(_ext(dsc, x509.ExtendedKeyUsage).value) == [OID_DCC_VACCINATION, OID_DCC_TEST]


def test_default_now_is_the_current_time(tmp_path: Path) -> None:
    """Without now=, validity starts at the wall clock (to the second)."""
    before = datetime.now(UTC).replace(microsecond=0)
    _, dsc = _certs(generate_keys(tmp_path))
    assert before <= dsc.not_valid_before_utc <= datetime.now(UTC)


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"country": "lu"}, "country_invalid"),
        ({"country": "LUX"}, "country_invalid"),
        ({"country": ""}, "country_invalid"),
        ({"alg": "RS256"}, "alg_unsupported"),
        ({"alg": "es256"}, "alg_unsupported"),
        ({"passphrase": b""}, "passphrase_invalid"),
        ({"cert_types": ("booster",)}, "cert_types_invalid"),
        ({"organisation": " "}, "organisation_invalid"),
        ({"organisation": "x" * 65}, "organisation_invalid"),
    ],
)
def test_invalid_arguments(tmp_path: Path, kwargs: dict[str, object], code: str) -> None:
    """Bad arguments raise KeyMaterialError with a clear code and write nothing."""
    with pytest.raises(KeyMaterialError) as info:
        generate_keys(tmp_path / "keys", **kwargs)  # type: ignore[arg-type]
    assert info.value.code == code
    assert not (tmp_path / "keys").exists()


def test_naive_now_is_a_programming_error(tmp_path: Path) -> None:
    """A naive datetime is refused rather than guessed."""
    with pytest.raises(ValueError, match="timezone-aware"):
        generate_keys(tmp_path, now=datetime(2025, 1, 1))


def test_unwritable_directory(tmp_path: Path) -> None:
    """A path under a regular file gives keys_write_failed, not an OSError."""
    blocker = tmp_path / "file"
    blocker.write_bytes(b"")
    with pytest.raises(KeyMaterialError) as info:
        generate_keys(blocker / "keys")
    assert info.value.code == "keys_write_failed"


def test_key_files_never_world_readable(tmp_path: Path) -> None:
    """Even with a permissive umask, keys come out 0600."""
    old = os.umask(0)
    try:
        generated = generate_keys(tmp_path / "k")
    finally:
        os.umask(old)
    assert stat.S_IMODE(generated.dsc_key_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(generated.csca_key_path.stat().st_mode) == 0o600
