"""DCC extended key usage: which certificate types (test, vaccination, recovery) a DSC may sign.

A DSC may carry zero to three DCC OIDs in its (non-critical) extendedKeyUsage. The current
arc is ``1.3.6.1.4.1.1847.2021.1.x``; drafts before 7 May 2021 used
``1.3.6.1.4.1.0.1847.2021.1.x`` and such DSCs are still in circulation, so both arcs count
the same. A DSC without any of the six OIDs (no EKU, or only unrelated OIDs) may sign every
type (hcert.md §5).
"""

from __future__ import annotations

from typing import Final, Literal, get_args

from cryptography import x509
from cryptography.x509.oid import ExtensionOID

from keys._der import DerError, extension_value, parse_oid_sequence
from keys.kid import certificate_der
from signing.errors import KeyMaterialError

__all__ = [
    "ALL_CERT_TYPES",
    "OID_DCC_RECOVERY",
    "OID_DCC_RECOVERY_EARLY",
    "OID_DCC_TEST",
    "OID_DCC_TEST_EARLY",
    "OID_DCC_VACCINATION",
    "OID_DCC_VACCINATION_EARLY",
    "OID_FOR_TYPE",
    "TYPE_FOR_OID",
    "CertType",
    "allowed_cert_types",
]

CertType = Literal["test", "vaccination", "recovery"]

OID_DCC_TEST: Final = x509.ObjectIdentifier("1.3.6.1.4.1.1847.2021.1.1")
OID_DCC_VACCINATION: Final = x509.ObjectIdentifier("1.3.6.1.4.1.1847.2021.1.2")
OID_DCC_RECOVERY: Final = x509.ObjectIdentifier("1.3.6.1.4.1.1847.2021.1.3")
OID_DCC_TEST_EARLY: Final = x509.ObjectIdentifier("1.3.6.1.4.1.0.1847.2021.1.1")
OID_DCC_VACCINATION_EARLY: Final = x509.ObjectIdentifier("1.3.6.1.4.1.0.1847.2021.1.2")
OID_DCC_RECOVERY_EARLY: Final = x509.ObjectIdentifier("1.3.6.1.4.1.0.1847.2021.1.3")

ALL_CERT_TYPES: Final[frozenset[CertType]] = frozenset(get_args(CertType))

OID_FOR_TYPE: Final[dict[CertType, x509.ObjectIdentifier]] = {
    "test": OID_DCC_TEST,
    "vaccination": OID_DCC_VACCINATION,
    "recovery": OID_DCC_RECOVERY,
}
"""The current-arc OID for each type; what :func:`keys.generate.generate_keys` writes."""

TYPE_FOR_OID: Final[dict[str, CertType]] = {
    OID_DCC_TEST.dotted_string: "test",
    OID_DCC_VACCINATION.dotted_string: "vaccination",
    OID_DCC_RECOVERY.dotted_string: "recovery",
    OID_DCC_TEST_EARLY.dotted_string: "test",
    OID_DCC_VACCINATION_EARLY.dotted_string: "vaccination",
    OID_DCC_RECOVERY_EARLY.dotted_string: "recovery",
}
"""Both arcs (dotted strings) → the type they allow."""


def _eku_oids(cert: x509.Certificate) -> list[str] | None:
    """The dotted EKU OIDs of ``cert``, or None when it has no extendedKeyUsage."""
    try:
        eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return None
    except ValueError:
        pass  # an extension cryptography refuses, e.g. an empty EKU: read the DER ourselves
    else:
        return [oid.dotted_string for oid in eku]
    try:
        values = extension_value(
            certificate_der(cert), ExtensionOID.EXTENDED_KEY_USAGE.dotted_string
        )
        if not values:
            return None
        return [oid for value in values for oid in parse_oid_sequence(value)]
    except DerError as exc:
        raise KeyMaterialError(
            "the certificate's extended key usage cannot be parsed",
            code="certificate_eku_invalid",
        ) from exc


def allowed_cert_types(cert: x509.Certificate) -> frozenset[CertType]:
    """The DCC types ``cert`` may sign, from its extendedKeyUsage.

    Both OID arcs are equivalent; unrelated EKU OIDs are ignored. Without any DCC OID (no
    EKU at all, an empty one, or only unrelated OIDs) every type is allowed. Raises
    :class:`KeyMaterialError` (``certificate_eku_invalid``) if the EKU cannot be read.
    """
    oids = _eku_oids(cert)
    if oids is None:
        return ALL_CERT_TYPES
    types = frozenset(TYPE_FOR_OID[oid] for oid in oids if oid in TYPE_FOR_OID)
    return types or ALL_CERT_TYPES
