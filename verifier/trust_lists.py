"""Trust lists from outside: read a published list into a :class:`TrustStore` with its age.

Formats (detected from the content):

* **EU gateway** JSON (``GET /trustList/DSC``, hcert.md §6.1): a list of entries
  ``{kid, timestamp, country, certificateType, thumbprint, signature, rawData}``, or
  ``{"certificates": [entries]}``. Only ``DSC`` entries with ``rawData`` count; an entry's
  ``thumbprint``, when present, must be the SHA-256 of its ``rawData`` (else the list is
  refused). The gateway's per-entry CMS ``signature`` (made by the country's upload
  certificate) is **not** checked: the gateway is reached over mutual TLS, and whoever
  fetches the list vouches for it.
* **German** two-line list (``de.dscg.ubirch.com/trustList/DSC/``, hcert.md §6.2): line 1
  is a base64 ECDSA P-256/SHA-256 signature (raw ``r||s`` or DER) over the rest, which is
  the gateway-like JSON. The signature must verify with one of the configured publisher
  keys (``DCC_TRUST_LIST_KEYS``); without a key such a list is refused, never trusted
  unchecked.
* Anything :func:`keys.trust_list.parse_certificates` reads: PEM, DER, base64 DER, our own
  ``GET /v1/trust-list`` JSON.

A list's age (``updated_at``) is its newest entry ``timestamp``, else the file's
modification time. Everything is bounded like :mod:`keys.trust_list` (16 MiB, 10,000
entries); a list that cannot be read raises :class:`KeyMaterialError`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Final

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from keys.kid import subject_country
from keys.trust_list import MAX_TRUST_LIST_BYTES, parse_certificates
from signing.errors import KeyMaterialError
from verifier.dates import parse_date_time
from verifier.trust import TrustListInfo, TrustStore, naming_trust_file, read_trust_file

__all__ = [
    "KIND_CERTIFICATES",
    "KIND_GATEWAY",
    "KIND_SIGNED",
    "load_signer_keys",
    "read_trust_list",
    "read_trust_list_file",
    "trust_list_files",
]

KIND_GATEWAY: Final = "gateway"
KIND_SIGNED: Final = "de-signed"
KIND_CERTIFICATES: Final = "certificates"
_UTF8_BOM: Final = b"\xef\xbb\xbf"
_RAW_P256_SIGNATURE: Final = 64
_BASE64_LINE: Final = re.compile(rb"[A-Za-z0-9+/]{16,}={0,2}")
_MAX_KEY_FILE_BYTES: Final = 64 * 1024


def _invalid(message: str, code: str = "trust_list_invalid") -> KeyMaterialError:
    return KeyMaterialError(message, code=code)


def _split_signed(body: bytes) -> tuple[bytes, bytes] | None:
    """(signature line, signed content) when ``body`` is a two-line signed list."""
    first, newline, rest = body.partition(b"\n")
    first = first.strip()
    if not newline or _BASE64_LINE.fullmatch(first) is None:
        return None
    if rest.lstrip()[:1] not in (b"{", b"["):
        return None
    return first, rest


def _der_signature(signature: bytes) -> bytes:
    if len(signature) == _RAW_P256_SIGNATURE:
        half = _RAW_P256_SIGNATURE // 2
        r, s = (int.from_bytes(part, "big") for part in (signature[:half], signature[half:]))
        return encode_dss_signature(r, s)
    return signature


def _check_signature(
    line: bytes, content: bytes, keys: Sequence[ec.EllipticCurvePublicKey]
) -> None:
    if not keys:
        raise _invalid(
            "this list is signed (two-line format) but no publisher key is configured "
            "(DCC_TRUST_LIST_KEYS, or --key): it is not trusted unchecked",
            code="trust_list_key_missing",
        )
    try:
        signature = _der_signature(base64.b64decode(line, validate=True))
    except binascii.Error as exc:
        raise _invalid(
            "the signature line is not base64", code="trust_list_signature_invalid"
        ) from exc
    candidates = (content, content.rstrip(b"\r\n")) if content.endswith(b"\n") else (content,)
    for key in keys:
        for signed in candidates:
            try:
                key.verify(signature, signed, ec.ECDSA(hashes.SHA256()))
            except (InvalidSignature, ValueError):
                continue
            return
    raise _invalid(
        "the list's signature does not verify with any configured publisher key",
        code="trust_list_signature_invalid",
    )


def _entries(document: object) -> list[object] | None:
    if isinstance(document, list):
        return document
    if isinstance(document, dict):
        certificates = document.get("certificates")
        if isinstance(certificates, list):
            return certificates
    return None


def _check_entries(entries: list[object]) -> datetime | None:
    """Check each DSC entry's thumbprint against its rawData; the newest timestamp."""
    newest: datetime | None = None
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict) or entry.get("certificateType", "DSC") != "DSC":
            continue
        raw, printed = entry.get("rawData"), entry.get("thumbprint")
        if isinstance(raw, str) and isinstance(printed, str):
            try:
                der = base64.b64decode("".join(raw.split()), validate=True)
            except binascii.Error:
                continue  # parse_certificates names the entry
            if hashlib.sha256(der).hexdigest() != printed.lower():
                raise _invalid(f"trust-list entry {index}: thumbprint does not match rawData")
        stamp = entry.get("timestamp")
        moment = parse_date_time(stamp) if isinstance(stamp, str) else None
        if moment is not None and (newest is None or moment > newest):
            newest = moment
    return newest


def read_trust_list(
    data: bytes,
    *,
    name: str,
    signer_keys: Sequence[ec.EllipticCurvePublicKey] = (),
    modified_at: datetime | None = None,
) -> TrustStore:
    """A store of the DSCs in ``data`` (any format above), tagged with a :class:`TrustListInfo`.

    Raises :class:`KeyMaterialError`: ``trust_list_invalid`` (unreadable, too large, a
    thumbprint that does not match), ``trust_list_key_missing`` (a signed list and no
    key), ``trust_list_signature_invalid`` (its signature does not verify).
    """
    if len(data) > MAX_TRUST_LIST_BYTES:
        raise _invalid(f"trust list is larger than {MAX_TRUST_LIST_BYTES} bytes")
    body = data.removeprefix(_UTF8_BOM).strip()
    if not body:
        raise _invalid("trust list is empty")
    kind = KIND_CERTIFICATES
    signed = _split_signed(body)
    if signed is not None:
        _check_signature(*signed, signer_keys)
        body, kind = signed[1], KIND_SIGNED
    updated_at = modified_at
    if body[:1] in (b"{", b"["):
        try:
            document: object = json.loads(body)
        except (ValueError, RecursionError) as exc:
            raise _invalid("trust list is not valid JSON") from exc
        entries = _entries(document)
        if entries is not None:
            kind = KIND_GATEWAY if kind == KIND_CERTIFICATES else kind
            updated_at = _check_entries(entries) or modified_at
    # the original bytes unless signed: a binary DER must not lose "whitespace" at its end
    certificates = parse_certificates(body if signed is not None else data)
    countries = sorted({country for cert in certificates if (country := subject_country(cert))})
    info = TrustListInfo(name, kind, updated_at, len(certificates), tuple(countries))
    return TrustStore(certificates, source=info)


def read_trust_list_file(
    path: Path, *, signer_keys: Sequence[ec.EllipticCurvePublicKey] = ()
) -> TrustStore:
    """:func:`read_trust_list` of a file, named by its file name, aged at least by its mtime.

    Raises :class:`KeyMaterialError` (``trust_file_unreadable`` or the codes above) naming
    the file.
    """
    data, modified = read_trust_file(path)
    with naming_trust_file(path):
        return read_trust_list(data, name=path.name, signer_keys=signer_keys, modified_at=modified)


def trust_list_files(paths: Sequence[Path]) -> list[Path]:
    """The files ``paths`` name: a file as is, a folder's visible files (sorted); a missing
    path is skipped (an empty trust folder is not an error)."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(
                sorted(item for item in path.iterdir() if item.is_file() and item.name[:1] != ".")
            )
        elif path.exists():
            files.append(path)
    return files


def load_signer_keys(paths: Sequence[Path]) -> tuple[ec.EllipticCurvePublicKey, ...]:
    """The EC P-256 public keys (PEM public key or certificate) that sign trust lists.

    Raises :class:`KeyMaterialError` (``trust_list_key_invalid``) for a file that cannot be
    read or holds another kind of key.
    """
    keys: list[ec.EllipticCurvePublicKey] = []
    for path in paths:
        try:
            with path.open("rb") as handle:
                data = handle.read(_MAX_KEY_FILE_BYTES)
        except OSError as exc:
            raise _invalid(
                f"cannot read trust-list key {path}: {exc.strerror or exc}",
                code="trust_list_key_invalid",
            ) from exc
        try:
            if b"-----BEGIN CERTIFICATE-----" in data:
                key: object = x509.load_pem_x509_certificate(data).public_key()
            else:
                key = serialization.load_pem_public_key(data)
        except (ValueError, UnsupportedAlgorithm) as exc:
            raise _invalid(
                f"trust-list key {path} is not a PEM public key or certificate",
                code="trust_list_key_invalid",
            ) from exc
        if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
            raise _invalid(
                f"trust-list key {path} is not an EC P-256 key", code="trust_list_key_invalid"
            )
        keys.append(key)
    return tuple(keys)
