"""Keys and certificates: CSCA/DSC generation, loading, kid, key usage and trust lists."""

from __future__ import annotations

from keys.eku import (
    ALL_CERT_TYPES,
    OID_DCC_RECOVERY,
    OID_DCC_RECOVERY_EARLY,
    OID_DCC_TEST,
    OID_DCC_TEST_EARLY,
    OID_DCC_VACCINATION,
    OID_DCC_VACCINATION_EARLY,
    OID_FOR_TYPE,
    TYPE_FOR_OID,
    CertType,
    allowed_cert_types,
)
from keys.generate import GeneratedKeys, generate_keys
from keys.kid import compute_kid, kid_b64, subject_country, thumbprint
from keys.load import SigningKeys, load_certificate, load_signing_keys
from keys.trust_list import export_trust_list, parse_certificates, trust_list_entry

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
    "GeneratedKeys",
    "SigningKeys",
    "allowed_cert_types",
    "compute_kid",
    "export_trust_list",
    "generate_keys",
    "kid_b64",
    "load_certificate",
    "load_signing_keys",
    "parse_certificates",
    "subject_country",
    "thumbprint",
    "trust_list_entry",
]
