"""load_signing_keys: the happy path and every refusal, each with its own error code."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import NameOID

from keys.generate import generate_keys
from keys.kid import compute_kid
from keys.load import SigningKeys, load_certificate, load_signing_keys
from signing.algorithms import ES256, PrivateKey
from signing.errors import KeyMaterialError

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(days=1)
PASSPHRASE = b"s3cret passphrase"


@pytest.fixture(scope="module")
def pki_a(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A good ES256 PKI (read-only for tests: copy before changing)."""
    directory = tmp_path_factory.mktemp("a") / "keys"
    generate_keys(directory, now=NOW)
    return directory


@pytest.fixture(scope="module")
def pki_b(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A second, unrelated ES256 PKI."""
    directory = tmp_path_factory.mktemp("b") / "keys"
    generate_keys(directory, now=NOW)
    return directory


@pytest.fixture(scope="module")
def pki_encrypted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An ES256 PKI whose private keys are encrypted with PASSPHRASE."""
    directory = tmp_path_factory.mktemp("enc") / "keys"
    generate_keys(directory, now=NOW, passphrase=PASSPHRASE)
    return directory


@pytest.fixture
def pki(pki_a: Path, tmp_path: Path) -> Path:
    """A private copy of pki_a that a test may damage."""
    return Path(shutil.copytree(pki_a, tmp_path / "keys"))


def _refusal(directory: Path, **kwargs: object) -> KeyMaterialError:
    kwargs.setdefault("now", LATER)
    with pytest.raises(KeyMaterialError) as info:
        load_signing_keys(directory, **kwargs)  # type: ignore[arg-type]
    return info.value


def _write_self_signed(
    directory: Path, key: PrivateKey | ed25519.Ed25519PrivateKey, *, country: str | None = "LU"
) -> None:
    """dsc.pem + dsc.key for an arbitrary key, self-signed, valid around NOW."""
    directory.mkdir(parents=True, exist_ok=True)
    attributes = [x509.NameAttribute(NameOID.COMMON_NAME, "odd DSC")]
    if country is not None:
        attributes.append(x509.NameAttribute(NameOID.COUNTRY_NAME, country))
    name = x509.Name(attributes)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - timedelta(days=1))
        .not_valid_after(NOW + timedelta(days=30))
        .sign(key, None if isinstance(key, ed25519.Ed25519PrivateKey) else hashes.SHA256())
    )
    (directory / "dsc.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (directory / "dsc.key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


def test_loads_a_generated_pki(pki_a: Path) -> None:
    """Every field of SigningKeys is filled from the files."""
    keys = load_signing_keys(pki_a, now=LATER)
    dsc = load_certificate(pki_a / "dsc.pem")
    assert keys.certificate == dsc
    assert keys.csca == load_certificate(pki_a / "csca.pem")
    assert keys.kid == compute_kid(dsc)
    assert keys.alg == ES256
    assert keys.country == "LU"
    assert keys.not_before == NOW
    assert keys.not_after == datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
    assert keys.not_before.tzinfo is not None
    assert keys.cert_types == {"test"}
    assert isinstance(keys.private_key, ec.EllipticCurvePrivateKey)
    assert "private_key" not in repr(keys)


def test_csca_is_optional(pki: Path) -> None:
    """Without csca.pem the DSC still loads, with csca None."""
    (pki / "csca.pem").unlink()
    (pki / "csca.key").unlink()
    assert load_signing_keys(pki, now=LATER).csca is None


def test_signing_keys_is_frozen(pki_a: Path) -> None:
    """SigningKeys cannot be mutated."""
    keys: SigningKeys = load_signing_keys(pki_a, now=LATER)
    with pytest.raises(AttributeError):
        keys.kid = b"00000000"  # type: ignore[misc]


@pytest.mark.parametrize("name", ["dsc.key", "dsc.pem"])
def test_missing_file(pki: Path, name: str) -> None:
    """A missing DSC file names the path and says how to create keys."""
    (pki / name).unlink()
    error = _refusal(pki)
    assert error.code == "key_file_missing"
    assert str(pki / name) in error.message
    assert f"dcc keys init --dir {pki}" in error.message


def test_missing_directory(tmp_path: Path) -> None:
    """A keys directory that does not exist is a missing file too."""
    error = _refusal(tmp_path / "nowhere")
    assert error.code == "key_file_missing"
    assert "dcc keys init" in error.message


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("dsc.key", b"not a key at all"),
        ("dsc.key", b"-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n"),
        ("dsc.key", b""),
        ("dsc.pem", b"-----BEGIN CERTIFICATE-----\nZ2FyYmFnZQ==\n-----END CERTIFICATE-----\n"),
        ("dsc.pem", b"\x30\x03\x02\x01\x00"),
        ("csca.pem", b"garbage"),
    ],
)
def test_garbage_files(pki: Path, name: str, content: bytes) -> None:
    """Unreadable PEM/DER in any file gives key_file_invalid naming that file."""
    (pki / name).write_bytes(content)
    error = _refusal(pki)
    assert error.code == "key_file_invalid"
    assert str(pki / name) in error.message


def test_unreadable_file(pki: Path) -> None:
    """A key path that cannot be read (here: a directory) gives key_file_invalid."""
    (pki / "dsc.key").unlink()
    (pki / "dsc.key").mkdir()
    assert _refusal(pki).code == "key_file_invalid"


def test_oversized_file(pki: Path) -> None:
    """A multi-MiB 'key' is refused unread."""
    (pki / "dsc.key").write_bytes(b"-----BEGIN PRIVATE KEY-----\n" + b"A" * (2 * 1024 * 1024))
    error = _refusal(pki)
    assert error.code == "key_file_invalid"
    assert "larger than" in error.message


def test_encrypted_key_loads_with_the_passphrase(pki_encrypted: Path) -> None:
    """The right passphrase opens the key."""
    keys = load_signing_keys(pki_encrypted, passphrase=PASSPHRASE, now=LATER)
    assert keys.alg == ES256


@pytest.mark.parametrize("passphrase", [None, b"wrong", PASSPHRASE + b"!"])
def test_wrong_or_missing_passphrase(pki_encrypted: Path, passphrase: bytes | None) -> None:
    """No passphrase or a wrong one: key_passphrase_wrong, never the passphrase in the text."""
    error = _refusal(pki_encrypted, passphrase=passphrase)
    assert error.code == "key_passphrase_wrong"
    assert "dsc.key" in error.message
    assert PASSPHRASE.decode() not in error.message


def test_passphrase_for_an_unencrypted_key(pki_a: Path) -> None:
    """A passphrase configured for a plain key is a misconfiguration, refused."""
    error = _refusal(pki_a, passphrase=PASSPHRASE)
    assert error.code == "key_passphrase_wrong"
    assert "not encrypted" in error.message


def test_mismatched_key(pki: Path, pki_b: Path) -> None:
    """Another PKI's dsc.key next to our dsc.pem: key_certificate_mismatch."""
    shutil.copy(pki_b / "dsc.key", pki / "dsc.key")
    assert _refusal(pki).code == "key_certificate_mismatch"


def test_csca_key_is_not_the_dsc_key(pki: Path) -> None:
    """Swapping in the CSCA key (same PKI, P-256) is a mismatch too."""
    shutil.copy(pki / "csca.key", pki / "dsc.key")
    assert _refusal(pki).code == "key_certificate_mismatch"


@pytest.mark.parametrize(
    "make_key",
    [
        lambda: ec.generate_private_key(ec.SECP384R1()),
        lambda: ec.generate_private_key(ec.SECP256K1()),
        lambda: rsa.generate_private_key(public_exponent=65537, key_size=1024),
        ed25519.Ed25519PrivateKey.generate,
    ],
    ids=["P-384", "secp256k1", "RSA-1024", "Ed25519"],
)
def test_unsupported_key_types(tmp_path: Path, make_key: object) -> None:
    """Only P-256 and RSA ≥ 2048 may sign DCCs: anything else is key_type_unsupported."""
    assert callable(make_key)
    _write_self_signed(tmp_path, make_key())
    error = _refusal(tmp_path)
    assert error.code == "key_type_unsupported"
    assert "P-256" in error.message


def test_self_signed_rsa_2048_is_accepted(tmp_path: Path) -> None:
    """The lower bound is inclusive: RSA 2048 loads as PS256."""
    _write_self_signed(tmp_path, rsa.generate_private_key(public_exponent=65537, key_size=2048))
    assert load_signing_keys(tmp_path, now=LATER).alg == -37


def test_expired_dsc(pki_a: Path) -> None:
    """Far in the future the DSC has expired."""
    error = _refusal(pki_a, now=NOW + timedelta(days=3 * 365))
    assert error.code == "certificate_expired"
    assert "2027-03-01" in error.message


def test_dsc_not_yet_valid(pki_a: Path) -> None:
    """Before notBefore the DSC is not yet valid."""
    assert _refusal(pki_a, now=NOW - timedelta(seconds=1)).code == "certificate_not_yet_valid"


def test_validity_bounds_are_inclusive(pki_a: Path) -> None:
    """notBefore and notAfter themselves are inside the validity."""
    assert load_signing_keys(pki_a, now=NOW).not_before == NOW
    assert load_signing_keys(pki_a, now=datetime(2027, 3, 1, 12, tzinfo=UTC)).kid


def test_expired_csca(tmp_path: Path) -> None:
    """A valid DSC under an expired CSCA is refused (shell model)."""
    csca_key = ec.generate_private_key(ec.SECP256R1())
    dsc_key = ec.generate_private_key(ec.SECP256R1())
    csca_name = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "LU")])
    csca = (
        x509.CertificateBuilder()
        .subject_name(csca_name)
        .issuer_name(csca_name)
        .public_key(csca_key.public_key())
        .serial_number(1)
        .not_valid_before(NOW - timedelta(days=10))
        .not_valid_after(NOW)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(csca_key, hashes.SHA256())
    )
    _write_self_signed(tmp_path, dsc_key)
    dsc = load_certificate(tmp_path / "dsc.pem")
    resigned = (
        x509.CertificateBuilder()
        .subject_name(dsc.subject)
        .issuer_name(csca_name)
        .public_key(dsc_key.public_key())
        .serial_number(2)
        .not_valid_before(dsc.not_valid_before_utc)
        .not_valid_after(dsc.not_valid_after_utc)
        .sign(csca_key, hashes.SHA256())
    )
    (tmp_path / "dsc.pem").write_bytes(resigned.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "csca.pem").write_bytes(csca.public_bytes(serialization.Encoding.DER))
    assert load_signing_keys(tmp_path, now=NOW).csca == csca
    error = _refusal(tmp_path, now=LATER)
    assert error.code == "certificate_expired"
    assert error.context["role"] == "CSCA"


def test_country_missing(tmp_path: Path) -> None:
    """A DSC subject without C= cannot issue DCCs (co/iss come from it)."""
    _write_self_signed(tmp_path, ec.generate_private_key(ec.SECP256R1()), country=None)
    assert _refusal(tmp_path).code == "certificate_country_missing"


def test_csca_of_another_pki(pki: Path, pki_b: Path) -> None:
    """csca.pem from another PKI did not sign the DSC: certificate_chain_invalid."""
    shutil.copy(pki_b / "csca.pem", pki / "csca.pem")
    assert _refusal(pki).code == "certificate_chain_invalid"


def test_csca_that_is_not_a_ca(pki: Path) -> None:
    """A csca.pem without CA=true is refused even before the signature is checked."""
    shutil.copy(pki / "dsc.pem", pki / "csca.pem")
    error = _refusal(pki)
    assert error.code == "certificate_chain_invalid"
    assert "not a CA" in error.message


def test_required_cert_types(tmp_path: Path) -> None:
    """A vaccination-only DSC loads, but not when the test type is required."""
    generate_keys(tmp_path, now=NOW, cert_types=("vaccination",))
    assert load_signing_keys(tmp_path, now=LATER).cert_types == {"vaccination"}
    error = _refusal(tmp_path, required_cert_types=("test",))
    assert error.code == "certificate_type_not_allowed"
    assert "test" in error.message
    assert load_signing_keys(tmp_path, now=LATER, required_cert_types=["vaccination"])


def test_default_now_is_the_current_time(tmp_path: Path) -> None:
    """Without now= the wall clock is used: a PKI generated a year ago is still valid."""
    generate_keys(tmp_path, now=datetime.now(UTC) - timedelta(days=365))
    assert load_signing_keys(tmp_path).country == "LU"
    generate_keys(tmp_path, now=datetime.now(UTC) - timedelta(days=3 * 365), overwrite=True)
    assert _refusal(tmp_path, now=None).code == "certificate_expired"


def test_naive_now_is_refused(pki_a: Path) -> None:
    """A naive now is a programming error."""
    with pytest.raises(ValueError, match="timezone-aware"):
        load_signing_keys(pki_a, now=datetime(2025, 3, 2))


def test_load_certificate_pem_der_and_missing(pki_a: Path, tmp_path: Path) -> None:
    """load_certificate reads PEM and DER, and refuses a missing path with key_file_missing."""
    cert = load_certificate(pki_a / "dsc.pem")
    der_path = tmp_path / "dsc.der"
    der_path.write_bytes(cert.public_bytes(serialization.Encoding.DER))
    assert load_certificate(der_path) == cert
    with pytest.raises(KeyMaterialError) as info:
        load_certificate(tmp_path / "absent.pem")
    assert info.value.code == "key_file_missing"
