"""Load the signing key and its DSC at start-up, refusing anything unusable with one clear error.

Every refusal is a :class:`KeyMaterialError` with its own ``code`` (hardening.md §3):

- ``key_file_missing``: ``dsc.pem`` or ``dsc.key`` does not exist;
- ``key_file_invalid``: a file that cannot be read, or is not PEM/DER of the right kind;
- ``key_passphrase_wrong``: an encrypted key without passphrase, a wrong passphrase, or a
  passphrase given for a key that is not encrypted;
- ``key_type_unsupported``: not P-256 (ES256) or RSA ≥ 2048 (PS256);
- ``key_certificate_mismatch``: the private key does not belong to the DSC;
- ``certificate_expired`` / ``certificate_not_yet_valid``: the DSC (or the CSCA) is outside
  its validity at ``now``;
- ``certificate_country_missing``: a DSC subject without ``C=``;
- ``certificate_chain_invalid``: ``csca.pem`` is present but did not issue the DSC;
- ``certificate_type_not_allowed``: the DSC's EKU does not cover a required certificate type.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from keys.eku import CertType, allowed_cert_types
from keys.kid import compute_kid, subject_country
from keys.layout import CSCA_CERT_FILE, DSC_CERT_FILE, DSC_KEY_FILE, MAX_KEY_FILE_BYTES
from signing.algorithms import PrivateKey, alg_for_key
from signing.errors import KeyMaterialError, SignatureError

__all__ = ["SigningKeys", "load_certificate", "load_private_key", "load_signing_keys"]

_PEM_MARKER: Final = b"-----BEGIN"
_ENCRYPTED_MARKERS: Final = (b"-----BEGIN ENCRYPTED PRIVATE KEY-----", b"Proc-Type: 4,ENCRYPTED")
_SPKI: Final = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


@dataclass(frozen=True, slots=True)
class SigningKeys:
    """A usable DSC private key with its certificate and what signers need to know about it."""

    private_key: PrivateKey | None = field(repr=False)
    """None for a DSC whose key stays in a PKCS#11 token."""
    certificate: x509.Certificate
    csca: x509.Certificate | None
    kid: bytes
    alg: int
    country: str
    not_before: datetime
    not_after: datetime
    cert_types: frozenset[CertType]


def _read(path: Path, *, missing_hint: str = "") -> bytes:
    """The bytes of a small file, or a KeyMaterialError saying why not."""
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_KEY_FILE_BYTES + 1)
    except FileNotFoundError as exc:
        raise KeyMaterialError(
            f"{path} does not exist{missing_hint}", code="key_file_missing", path=str(path)
        ) from exc
    except OSError as exc:
        raise KeyMaterialError(
            f"cannot read {path}: {exc.strerror or exc}", code="key_file_invalid", path=str(path)
        ) from exc
    if len(data) > MAX_KEY_FILE_BYTES:
        raise KeyMaterialError(
            f"{path} is larger than {MAX_KEY_FILE_BYTES} bytes; not a key or certificate file",
            code="key_file_invalid",
            path=str(path),
        )
    return data


def _parse_certificate(data: bytes, path: Path) -> x509.Certificate:
    try:
        if _PEM_MARKER in data:
            return x509.load_pem_x509_certificate(data)
        return x509.load_der_x509_certificate(data)
    except ValueError as exc:
        raise KeyMaterialError(
            f"{path} is not a PEM or DER X.509 certificate", code="key_file_invalid", path=str(path)
        ) from exc


def load_certificate(path: Path) -> x509.Certificate:
    """Read one X.509 certificate (PEM, the first block; or DER) from ``path``.

    Raises :class:`KeyMaterialError` (``key_file_missing`` or ``key_file_invalid``).
    """
    return _parse_certificate(_read(path), path)


def _load_private_key(path: Path, passphrase: bytes | None, hint: str) -> PrivateKey:
    """Load a PEM private key and check it can sign DCCs (P-256 or RSA ≥ 2048)."""
    data = _read(path, missing_hint=hint)
    if _PEM_MARKER not in data:
        raise KeyMaterialError(
            f"{path} is not a PEM private key", code="key_file_invalid", path=str(path)
        )
    encrypted = any(marker in data for marker in _ENCRYPTED_MARKERS)
    if encrypted and passphrase is None:
        raise KeyMaterialError(
            f"{path} is encrypted and no passphrase was given",
            code="key_passphrase_wrong",
            path=str(path),
        )
    if not encrypted and passphrase is not None:
        raise KeyMaterialError(
            f"a passphrase was given but {path} is not encrypted",
            code="key_passphrase_wrong",
            path=str(path),
        )
    try:
        key = serialization.load_pem_private_key(data, password=passphrase)
    except ValueError as exc:
        if encrypted:
            raise KeyMaterialError(
                f"wrong passphrase for {path} (or the file is corrupted)",
                code="key_passphrase_wrong",
                path=str(path),
            ) from exc
        raise KeyMaterialError(
            f"{path} is not a readable PEM private key", code="key_file_invalid", path=str(path)
        ) from exc
    except TypeError as exc:
        raise KeyMaterialError(
            f"passphrase does not fit {path}: {exc}", code="key_passphrase_wrong", path=str(path)
        ) from exc
    except UnsupportedAlgorithm as exc:
        raise KeyMaterialError(
            f"{path} holds a key type this service cannot use",
            code="key_type_unsupported",
            path=str(path),
        ) from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise KeyMaterialError(
            f"{path} holds a {type(key).__name__}; DCC signing needs P-256 (ES256) "
            "or RSA ≥ 2048 (PS256)",
            code="key_type_unsupported",
            path=str(path),
        )
    try:
        alg_for_key(key)
    except SignatureError as exc:
        raise KeyMaterialError(
            f"{path}: {exc.message}; DCC signing needs P-256 (ES256) or RSA ≥ 2048 (PS256)",
            code="key_type_unsupported",
            path=str(path),
        ) from exc
    return key


def load_private_key(path: Path, passphrase: bytes | None) -> PrivateKey:
    """Load a PEM private key (the CSCA's, for ``dcc keys rotate``); KeyMaterialError if not."""
    return _load_private_key(path, passphrase, "")


def _check_pair(key: PrivateKey, cert: x509.Certificate, key_path: Path, cert_path: Path) -> None:
    try:
        matches = key.public_key().public_bytes(*_SPKI) == cert.public_key().public_bytes(*_SPKI)
    except (ValueError, UnsupportedAlgorithm):
        matches = False
    if not matches:
        raise KeyMaterialError(
            f"the private key in {key_path} does not belong to the certificate in {cert_path}",
            code="key_certificate_mismatch",
            key_path=str(key_path),
            cert_path=str(cert_path),
        )


def _check_validity(cert: x509.Certificate, now: datetime, role: str, path: Path) -> None:
    if now > cert.not_valid_after_utc:
        raise KeyMaterialError(
            f"the {role} in {path} expired at {cert.not_valid_after_utc.isoformat()}",
            code="certificate_expired",
            path=str(path),
            role=role,
        )
    if now < cert.not_valid_before_utc:
        raise KeyMaterialError(
            f"the {role} in {path} is not valid before {cert.not_valid_before_utc.isoformat()}",
            code="certificate_not_yet_valid",
            path=str(path),
            role=role,
        )


def _country(cert: x509.Certificate, path: Path) -> str:
    country = subject_country(cert)
    if country is None:
        raise KeyMaterialError(
            f"the DSC in {path} has no country (C=) in its subject",
            code="certificate_country_missing",
            path=str(path),
        )
    return country


def _check_chain(dsc: x509.Certificate, csca: x509.Certificate, csca_path: Path) -> None:
    """The DSC must be signed by the CSCA, and the CSCA must be a CA."""
    try:
        is_ca = csca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except (x509.ExtensionNotFound, ValueError):
        is_ca = False
    if not is_ca:
        raise KeyMaterialError(
            f"the certificate in {csca_path} is not a CA (no basicConstraints CA=true)",
            code="certificate_chain_invalid",
            path=str(csca_path),
        )
    try:
        dsc.verify_directly_issued_by(csca)
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm) as exc:
        raise KeyMaterialError(
            f"the DSC was not issued by the CSCA in {csca_path} ({str(exc) or 'bad signature'})",
            code="certificate_chain_invalid",
            path=str(csca_path),
        ) from exc


def load_signing_keys(
    directory: Path,
    *,
    passphrase: bytes | None = None,
    now: datetime | None = None,
    required_cert_types: Collection[CertType] = (),
    cert_file: str = DSC_CERT_FILE,
    key_file: str | None = DSC_KEY_FILE,
) -> SigningKeys:
    """Load ``dsc.key`` and ``dsc.pem`` (and ``csca.pem`` if present) from ``directory``.

    Checks, in order: both files exist and parse, the passphrase, the key type, that key
    and certificate belong together, the DSC (and CSCA) validity at ``now`` (aware; default:
    the current time), the subject country, the chain to ``csca.pem``, and that the DSC's
    extended key usage covers ``required_cert_types``. ``cert_file``/``key_file`` name
    another DSC of the directory (a rotated one, see :mod:`keys.manifest`); ``key_file=None``
    checks the certificate alone (its key is in a PKCS#11 token). Raises one
    :class:`KeyMaterialError` with a distinct ``code`` for the first failure (see the
    module docstring).
    """
    if now is not None and now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    moment = now or datetime.now(UTC)
    hint = f"; run `dcc keys init --dir {directory}` to create a test CSCA and DSC"
    cert_path = directory / cert_file
    key_path = directory / key_file if key_file is not None else None
    for path in (cert_path, key_path):
        if path is not None and not path.exists():
            raise KeyMaterialError(
                f"{path} does not exist{hint}", code="key_file_missing", path=str(path)
            )
    cert = _parse_certificate(_read(cert_path, missing_hint=hint), cert_path)
    key = None
    if key_path is not None:
        key = _load_private_key(key_path, passphrase, hint)
        _check_pair(key, cert, key_path, cert_path)
    _check_validity(cert, moment, "DSC", cert_path)
    country = _country(cert, cert_path)
    csca_path = directory / CSCA_CERT_FILE
    csca = load_certificate(csca_path) if csca_path.exists() else None
    if csca is not None:
        _check_chain(cert, csca, csca_path)
        _check_validity(csca, moment, "CSCA", csca_path)
    cert_types = allowed_cert_types(cert)
    missing_types = sorted(set(required_cert_types) - cert_types)
    if missing_types:
        raise KeyMaterialError(
            f"the DSC in {cert_path} may not sign {', '.join(missing_types)} certificates "
            f"(its extended key usage allows {', '.join(sorted(cert_types))})",
            code="certificate_type_not_allowed",
            path=str(cert_path),
        )
    return SigningKeys(
        private_key=key,
        certificate=cert,
        csca=csca,
        kid=compute_kid(cert),
        alg=alg_for_key(key if key is not None else cert.public_key()),
        country=country,
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        cert_types=cert_types,
    )
