"""How a DSC is identified: the DCC kid, the thumbprint and the subject country.

kid = the first 8 bytes of SHA-256 over the certificate's DER (hcert.md §1.3).
"""

from __future__ import annotations

import base64
import hashlib
from typing import Final

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID

__all__ = [
    "KID_LENGTH",
    "certificate_der",
    "compute_kid",
    "kid_b64",
    "subject_country",
    "thumbprint",
]

KID_LENGTH: Final = 8


def certificate_der(cert: x509.Certificate) -> bytes:
    """The DER encoding of ``cert`` (the bytes the kid and the thumbprint are computed over)."""
    return cert.public_bytes(serialization.Encoding.DER)


def compute_kid(cert: x509.Certificate) -> bytes:
    """The 8-byte COSE ``kid`` of a DSC: SHA-256 over the whole certificate, truncated.

    It covers the certificate, not the public key, so a renewed certificate for the same
    key gets a new kid (hcert.md §1.3).
    """
    return hashlib.sha256(certificate_der(cert)).digest()[:KID_LENGTH]


def kid_b64(kid: bytes) -> str:
    """The kid as trust lists carry it: standard base64 with padding (12 characters)."""
    return base64.b64encode(kid).decode("ascii")


def thumbprint(cert: x509.Certificate) -> str:
    """Lower-case hex SHA-256 of the certificate's DER (64 characters), as in trust lists."""
    return hashlib.sha256(certificate_der(cert)).hexdigest()


def subject_country(cert: x509.Certificate) -> str | None:
    """The first ``C=`` of the certificate's subject, or None when there is none (or empty)."""
    values = cert.subject.get_attributes_for_oid(NameOID.COUNTRY_NAME)
    if not values or not isinstance(values[0].value, str) or not values[0].value:
        return None
    return values[0].value
