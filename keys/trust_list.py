"""Trust lists: export our DSCs as DCCG-style entries; import certificates from common forms.

Accepted forms: PEM, DER, base64 DER, our JSON, the gateway's JSON, the German public list.

Imported input is hostile until parsed: it is bounded (16 MiB, 10,000 entries), and anything
that cannot be read raises :class:`KeyMaterialError` with code ``trust_list_invalid``.

The German public list (``de.dscg.ubirch.com/trustList/DSC/``) has a first line holding a
base64 ECDSA signature over the second line. This parser does **not** verify that signature:
it only reads the JSON of line 2. Whoever fetches that list over the network must check the
signature against the publisher's key before trusting it; a file handed to ``dcc verify
--trust`` is trusted by the operator who hands it over.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Final

from cryptography import x509

from keys.kid import certificate_der, compute_kid, kid_b64, subject_country, thumbprint
from signing.errors import KeyMaterialError

__all__ = [
    "MAX_TRUST_LIST_BYTES",
    "MAX_TRUST_LIST_ENTRIES",
    "export_trust_list",
    "parse_certificates",
    "trust_list_entry",
]

MAX_TRUST_LIST_BYTES: Final = 16 * 1024 * 1024
MAX_TRUST_LIST_ENTRIES: Final = 10_000
_PEM_CERT_MARKER: Final = b"-----BEGIN CERTIFICATE-----"
_PEM_MARKER: Final = b"-----BEGIN"
_DER_SEQUENCE: Final = 0x30
_UTF8_BOM: Final = b"\xef\xbb\xbf"


def trust_list_entry(
    cert: x509.Certificate, *, timestamp: datetime | None = None
) -> dict[str, object]:
    """One DCCG-style trust-list entry for a DSC.

    Keys: ``kid`` (base64), ``country`` (subject C), ``certificateType`` (``"DSC"``),
    ``thumbprint`` (lower-case hex SHA-256 of the DER), ``timestamp`` (ISO 8601 with offset;
    default: the certificate's notBefore, so the list is stable between calls) and
    ``rawData`` (base64 DER). Raises :class:`KeyMaterialError`
    (``certificate_country_missing``) for a certificate without a subject country.
    """
    if timestamp is not None and timestamp.tzinfo is None:
        raise ValueError("timestamp must be timezone-aware")
    country = subject_country(cert)
    if country is None:
        raise KeyMaterialError(
            "a trust-list entry needs a certificate whose subject has a country (C=)",
            code="certificate_country_missing",
        )
    moment = timestamp or cert.not_valid_before_utc
    return {
        "kid": kid_b64(compute_kid(cert)),
        "country": country,
        "certificateType": "DSC",
        "thumbprint": thumbprint(cert),
        "timestamp": moment.isoformat(timespec="seconds"),
        "rawData": base64.b64encode(certificate_der(cert)).decode("ascii"),
    }


def export_trust_list(certs: Sequence[x509.Certificate]) -> list[dict[str, object]]:
    """The trust-list JSON (a list of :func:`trust_list_entry` dicts) for ``certs``."""
    return [trust_list_entry(cert) for cert in certs]


def _invalid(message: str) -> KeyMaterialError:
    return KeyMaterialError(message, code="trust_list_invalid")


def _from_base64_der(text: str, what: str) -> x509.Certificate:
    try:
        der = base64.b64decode("".join(text.split()), validate=True)
        return x509.load_der_x509_certificate(der)
    except (binascii.Error, ValueError) as exc:
        raise _invalid(f"{what} is not a base64 DER X.509 certificate") from exc


def _from_pem(data: bytes) -> list[x509.Certificate]:
    if data.count(_PEM_CERT_MARKER) > MAX_TRUST_LIST_ENTRIES:
        raise _invalid(f"more than {MAX_TRUST_LIST_ENTRIES} certificates")
    try:
        return x509.load_pem_x509_certificates(data)
    except ValueError as exc:
        raise _invalid("PEM input holds no readable X.509 certificate") from exc


def _entries(document: object) -> list[object]:
    """The list of entries in a parsed JSON trust list (any of the accepted shapes)."""
    if isinstance(document, list):
        return document
    if isinstance(document, dict):
        if "certificates" in document:
            certificates = document["certificates"]
            if not isinstance(certificates, list):
                raise _invalid('"certificates" must be a list of trust-list entries')
            return certificates
        if "rawData" in document:
            return [document]
    raise _invalid("JSON is neither a trust-list entry, a list of them, nor {certificates: [...]}")


def _from_json(text: str) -> list[x509.Certificate]:
    try:
        document: object = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise _invalid("trust list is not valid JSON") from exc
    entries = _entries(document)
    if len(entries) > MAX_TRUST_LIST_ENTRIES:
        raise _invalid(f"more than {MAX_TRUST_LIST_ENTRIES} trust-list entries")
    certs: list[x509.Certificate] = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise _invalid(f"trust-list entry {index} is not an object")
        if entry.get("certificateType", "DSC") != "DSC":
            continue  # CSCA, UPLOAD, AUTHENTICATION: not for verifying DCCs
        if "rawData" not in entry:
            raise _invalid(f"trust-list entry {index} has no rawData")
        raw = entry["rawData"]
        if raw is None:
            continue  # a deleted DSC
        if not isinstance(raw, str):
            raise _invalid(f"rawData of trust-list entry {index} is not a string")
        certs.append(_from_base64_der(raw, f"rawData of trust-list entry {index}"))
    return certs


def _parse(body: bytes) -> list[x509.Certificate]:
    if _PEM_MARKER in body:
        return _from_pem(body)
    if body[0] == _DER_SEQUENCE:
        try:
            return [x509.load_der_x509_certificate(body)]
        except ValueError:
            pass  # a base64 text may start with "0" too (e.g. the German list's signature)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _invalid("input is neither PEM, DER, base64 DER nor JSON") from exc
    if text[0] in "[{":
        return _from_json(text)
    first_line, _, rest = text.partition("\n")
    if rest.lstrip()[:1] in ("{", "["):
        return _from_json(rest)  # German list: line 1 is a signature we do not verify
    return [_from_base64_der(first_line + rest, "input")]


def _parse_der(raw: bytes) -> list[x509.Certificate]:
    """Binary DER as it is: stripping "whitespace" would cut a DER whose last bytes happen
    to be 0x09-0x0d or 0x20 (a random key makes that about one time in 40)."""
    if raw[:1] != bytes([_DER_SEQUENCE]):
        return []
    try:
        return [x509.load_der_x509_certificate(raw)]
    except ValueError:
        return []


def parse_certificates(data: bytes) -> list[x509.Certificate]:
    """Read DSC certificates from any accepted trust-list form; duplicates appear once.

    Accepts PEM (one or several certificates), DER, base64 of DER (whitespace allowed), our
    trust-list JSON (a list of entries), ``{"certificates": [entries]}`` (gateway-like), the
    German public list (signature line + JSON line; the signature is **not** verified) and a
    single entry object. Entries with ``rawData: null`` (deleted) and entries whose
    ``certificateType`` is not ``DSC`` are skipped; an entry's ``kid`` field is ignored (kids
    are always recomputed from the DER). Raises :class:`KeyMaterialError`
    (``trust_list_invalid``) for input over 16 MiB or 10,000 entries, or anything unreadable.
    """
    if len(data) > MAX_TRUST_LIST_BYTES:
        raise _invalid(f"trust list is larger than {MAX_TRUST_LIST_BYTES} bytes")
    raw = data.removeprefix(_UTF8_BOM)
    body = raw.strip()
    if not body:
        raise _invalid("trust list is empty")
    unique: dict[bytes, x509.Certificate] = {}
    for cert in _parse_der(raw) or _parse(body):
        unique.setdefault(certificate_der(cert), cert)
    return list(unique.values())
