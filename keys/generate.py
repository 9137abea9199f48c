"""Generate a test PKI for this service: a self-signed CSCA and a DSC it signs (hcert.md §5).

``dcc keys init`` calls :func:`generate_keys`. Private keys are written PKCS#8 PEM with mode
0600 from the first byte (created under a temporary name with ``os.open(..., 0o600)`` and
renamed into place), encrypted when a passphrase is given.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from keys.eku import OID_FOR_TYPE, CertType
from keys.files import write_atomically
from keys.kid import compute_kid, kid_b64
from keys.layout import CSCA_CERT_FILE, CSCA_KEY_FILE, DSC_CERT_FILE, DSC_KEY_FILE
from keys.manifest import DscRecord, KeyManifest, write_manifest
from signing.algorithms import PrivateKey, PublicKey
from signing.errors import KeyMaterialError

__all__ = [
    "CSCA_VALIDITY_YEARS",
    "DSC_VALIDITY_YEARS",
    "RSA_KEY_BITS",
    "RSA_KEY_SIZES",
    "SUPPORTED_ALGS",
    "GeneratedKeys",
    "build_dsc",
    "dsc_name",
    "generate_keys",
    "new_private_key",
    "private_pem",
]

SUPPORTED_ALGS: Final = ("ES256", "PS256")
CSCA_VALIDITY_YEARS: Final = 4
DSC_VALIDITY_YEARS: Final = 2
RSA_KEY_BITS: Final = 2048
"""The default RSA modulus for PS256: the 2048 bits the HCERT spec names (hcert.md §1.3).
Some verifiers in use read nothing else, and the QR code is ~190 characters shorter."""
RSA_KEY_SIZES: Final = (2048, 3072)
_RSA_EXPONENT: Final = 65537
_MAX_ORGANISATION_CHARS: Final = 64  # ub-organization-name (RFC 5280)
_COUNTRY_RE: Final = re.compile(r"[A-Z]{2}")


@dataclass(frozen=True, slots=True)
class GeneratedKeys:
    """Where :func:`generate_keys` wrote the PKI, and the DSC's kid."""

    csca_cert_path: Path
    dsc_cert_path: Path
    dsc_key_path: Path
    csca_key_path: Path
    kid: bytes


def _validate(
    country: str,
    alg: str,
    passphrase: bytes | None,
    cert_types: Sequence[CertType],
    org: str,
    rsa_bits: int,
) -> None:
    if not _COUNTRY_RE.fullmatch(country):
        raise KeyMaterialError(
            f"country must be two upper-case letters (ISO 3166-1 alpha-2), not {country!r}",
            code="country_invalid",
        )
    if alg not in SUPPORTED_ALGS:
        raise KeyMaterialError(
            f"alg must be one of {', '.join(SUPPORTED_ALGS)}, not {alg!r}", code="alg_unsupported"
        )
    if rsa_bits not in RSA_KEY_SIZES:
        raise KeyMaterialError(
            f"RSA keys must have {' or '.join(map(str, RSA_KEY_SIZES))} bits, not {rsa_bits}",
            code="rsa_bits_unsupported",
        )
    if passphrase is not None and not passphrase:
        raise KeyMaterialError("the passphrase must not be empty", code="passphrase_invalid")
    unknown = [t for t in cert_types if t not in OID_FOR_TYPE]
    if unknown:
        raise KeyMaterialError(
            f"unknown certificate types {unknown!r}; use test, vaccination or recovery",
            code="cert_types_invalid",
        )
    if not org.strip() or len(org) > _MAX_ORGANISATION_CHARS:
        raise KeyMaterialError(
            f"organisation must be 1 to {_MAX_ORGANISATION_CHARS} characters",
            code="organisation_invalid",
        )


def new_private_key(alg: str, rsa_bits: int) -> PrivateKey:
    if alg == "ES256":
        return ec.generate_private_key(ec.SECP256R1())
    return rsa.generate_private_key(public_exponent=_RSA_EXPONENT, key_size=rsa_bits)


def _add_years(moment: datetime, years: int) -> datetime:
    """``moment`` plus calendar years; 29 February becomes 28 February."""
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:
        return moment.replace(year=moment.year + years, day=28)


def _name(common_name: str, organisation: str, country: str, unit: str | None = None) -> x509.Name:
    attributes = [
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
    ]
    if unit is not None:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, unit))
    attributes.append(x509.NameAttribute(NameOID.COUNTRY_NAME, country))
    return x509.Name(attributes)


def dsc_name(csca: x509.Certificate, scope: str | None) -> x509.Name:
    """The subject of a new DSC under ``csca``: its organisation and country, ``OU=scope``."""
    organisation = csca.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    country = csca.subject.get_attributes_for_oid(NameOID.COUNTRY_NAME)
    org = str(organisation[0].value) if organisation else "dcc-service test"
    code = str(country[0].value) if country else "LU"
    unit = f"scope {scope}" if scope is not None else None
    return _name(f"{code} DSC TEST (dcc-service)", org, code, unit)


def _key_usage(*, digital_signature: bool = False, cert_sign: bool = False) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=digital_signature,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _build_csca(key: PrivateKey, name: x509.Name, now: datetime) -> x509.Certificate:
    """Self-signed CSCA: CA with pathLen 0, keyCertSign + cRLSign, SKI, 4 years."""
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(_add_years(now, CSCA_VALIDITY_YEARS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(cert_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )


def build_dsc(
    public_key: PublicKey,
    name: x509.Name,
    csca: x509.Certificate,
    csca_key: PrivateKey,
    now: datetime,
    cert_types: Sequence[CertType],
) -> x509.Certificate:
    """DSC signed by the CSCA: digitalSignature, AKI = CSCA SKI, SKI, DCC EKU, 2 years.

    ``public_key`` is the DSC's (its private key may live in a PKCS#11 token); the DSC is
    valid from ``now`` and never beyond the CSCA.
    """
    csca_ski = csca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(csca.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(min(_add_years(now, DSC_VALIDITY_YEARS), csca.not_valid_after_utc))
        .add_extension(_key_usage(digital_signature=True), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(csca_ski),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    )
    oids = list(dict.fromkeys(OID_FOR_TYPE[t] for t in cert_types))
    if oids:
        builder = builder.add_extension(x509.ExtendedKeyUsage(oids), critical=False)
    return builder.sign(csca_key, hashes.SHA256())


def private_pem(key: PrivateKey, passphrase: bytes | None) -> bytes:
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase)
        if passphrase is not None
        else serialization.NoEncryption()
    )
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )


def generate_keys(
    directory: Path,
    *,
    country: str = "LU",
    alg: str = "ES256",
    passphrase: bytes | None = None,
    now: datetime | None = None,
    cert_types: Sequence[CertType] = ("test",),
    organisation: str = "dcc-service test",
    overwrite: bool = False,
    rsa_bits: int = RSA_KEY_BITS,
) -> GeneratedKeys:
    """Create a CSCA and a DSC in ``directory``; return the file paths and the DSC's kid.

    Writes ``csca.pem``, ``csca.key``, ``dsc.pem``, ``dsc.key`` and the manifest ``keys.json``
    naming the DSC active from ``now`` (the directory is created
    with mode 0700 if missing; keys get 0600, certificates 0644).

    ES256 uses P-256 keys; PS256 uses RSA keys of ``rsa_bits`` (2048 by default, or 3072;
    the CSCA then signs with PKCS#1 v1.5 SHA-256). The DSC's extendedKeyUsage lists the
    current-arc OIDs of ``cert_types``; an empty ``cert_types`` leaves the EKU out, which
    allows every type. ``now`` (aware) sets
    the start of validity. Raises :class:`KeyMaterialError`: invalid arguments, existing files
    without ``overwrite=True`` (``keys_exist``), or a directory that cannot be written.
    """
    _validate(country, alg, passphrase, cert_types, organisation, rsa_bits)
    if now is not None and now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    start = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    paths = {
        name: directory / name
        for name in (CSCA_CERT_FILE, CSCA_KEY_FILE, DSC_CERT_FILE, DSC_KEY_FILE)
    }
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        existing = [str(path) for path in paths.values() if path.exists()]
        if existing and not overwrite:
            raise KeyMaterialError(
                f"refusing to overwrite existing key files: {', '.join(existing)} "
                "(move them away, or replace them with `dcc keys init --force`)",
                code="keys_exist",
                paths=existing,
            )
        csca_key = new_private_key(alg, rsa_bits)
        csca = _build_csca(
            csca_key, _name(f"{country} CSCA TEST (dcc-service)", organisation, country), start
        )
        dsc_key = new_private_key(alg, rsa_bits)
        subject = _name(f"{country} DSC TEST (dcc-service)", organisation, country)
        dsc = build_dsc(dsc_key.public_key(), subject, csca, csca_key, start, cert_types)
        write_atomically(paths[CSCA_KEY_FILE], private_pem(csca_key, passphrase), 0o600)
        write_atomically(paths[DSC_KEY_FILE], private_pem(dsc_key, passphrase), 0o600)
        pem = serialization.Encoding.PEM
        write_atomically(paths[CSCA_CERT_FILE], csca.public_bytes(pem), 0o644)
        write_atomically(paths[DSC_CERT_FILE], dsc.public_bytes(pem), 0o644)
        first = DscRecord(
            kid=kid_b64(compute_kid(dsc)),
            cert_file=DSC_CERT_FILE,
            key_file=DSC_KEY_FILE,
            activates_at=int(start.timestamp()),
            created_at=int(start.timestamp()),
        )
        write_manifest(directory, KeyManifest((first,)))
    except OSError as exc:
        raise KeyMaterialError(
            f"cannot write keys to {directory}: {exc.strerror or exc}",
            code="keys_write_failed",
            path=str(directory),
        ) from exc
    return GeneratedKeys(
        csca_cert_path=paths[CSCA_CERT_FILE],
        dsc_cert_path=paths[DSC_CERT_FILE],
        dsc_key_path=paths[DSC_KEY_FILE],
        csca_key_path=paths[CSCA_KEY_FILE],
        kid=compute_kid(dsc),
    )
