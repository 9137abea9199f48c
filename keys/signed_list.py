"""The signed trust list: a COSE_Sign1 over the CBOR list of DSCs, signed by the CSCA.

Payload (deterministic CBOR map, text keys)::

    {"iss": "LU",                       # the CSCA's country
     "iat": 1796391584,                 # signed at (seconds since the epoch)
     "exp": 1796564384,                 # do not use after (seconds since the epoch)
     "dscs": [{"kid": h'…8 bytes…', "cert": h'…DER…'}, …]}

The protected header holds ``alg`` (ES256 or PS256, from the CSCA key) and ``kid`` (the
first 8 bytes of the SHA-256 of the CSCA certificate's DER). A verifier that holds the CSCA
certificate (out of band) checks it with :func:`verify_signed_trust_list`: the signature
with the CSCA's key, ``exp`` not passed, and every DSC issued by that CSCA with the kid it
is listed under. The plain JSON list stays the document most verifiers read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Final

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm

from keys.kid import certificate_der, compute_kid, subject_country
from keys.layout import CSCA_CERT_FILE, CSCA_KEY_FILE
from keys.load import load_certificate, load_private_key
from keys.trust_list import MAX_TRUST_LIST_BYTES, MAX_TRUST_LIST_ENTRIES
from signing.algorithms import PrivateKey, alg_for_key, raw_signing_function
from signing.cbor import dumps, loads_strict
from signing.cose import encode_sign1, parse_sign1, verify_sign1
from signing.errors import DccError, KeyMaterialError, SignatureError

__all__ = ["TrustListSigner", "verify_signed_trust_list"]

_SKEW: Final = timedelta(minutes=5)


def _invalid(message: str, *, code: str = "trust_list_invalid") -> KeyMaterialError:
    return KeyMaterialError(message, code=code)


@dataclass(frozen=True)
class TrustListSigner:
    """Signs trust lists with the CSCA's private key."""

    csca: x509.Certificate
    key: PrivateKey = field(repr=False)

    @classmethod
    def from_directory(cls, directory: Path, passphrase: bytes | None) -> TrustListSigner | None:
        """The signer of ``directory``'s CSCA; None when ``csca.key`` is not there (a replica
        that holds no CSCA key serves no signed list)."""
        if not (directory / CSCA_KEY_FILE).exists():
            return None
        return cls(
            load_certificate(directory / CSCA_CERT_FILE),
            load_private_key(directory / CSCA_KEY_FILE, passphrase),
        )

    def sign(
        self, certificates: Sequence[x509.Certificate], *, now: datetime, validity: timedelta
    ) -> bytes:
        """The COSE_Sign1 bytes of the list of ``certificates``, valid from ``now``."""
        country = subject_country(self.csca) or ""
        payload = dumps(
            {
                "iss": country,
                "iat": int(now.timestamp()),
                "exp": int((now + validity).timestamp()),
                "dscs": [
                    {"kid": compute_kid(cert), "cert": certificate_der(cert)}
                    for cert in certificates
                ],
            }
        )
        alg = alg_for_key(self.key)
        return encode_sign1(
            payload, alg=alg, kid=compute_kid(self.csca), sign=raw_signing_function(self.key, alg)
        )


def _dsc(entry: object, csca: x509.Certificate, index: int) -> x509.Certificate:
    if not isinstance(entry, dict) or set(entry) != {"kid", "cert"}:
        raise _invalid(f"entry {index} is not {{kid, cert}}")
    kid, der = entry["kid"], entry["cert"]
    if not isinstance(kid, bytes) or not isinstance(der, bytes):
        raise _invalid(f"entry {index}: kid and cert must be byte strings")
    try:
        cert = x509.load_der_x509_certificate(der)
    except ValueError as exc:
        raise _invalid(f"entry {index}: cert is not a DER X.509 certificate") from exc
    if compute_kid(cert) != kid:
        raise _invalid(f"entry {index}: kid does not match the certificate")
    try:
        cert.verify_directly_issued_by(csca)
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm) as exc:
        raise _invalid(f"entry {index}: the DSC was not issued by the CSCA") from exc
    return cert


def verify_signed_trust_list(
    data: bytes, csca: x509.Certificate, *, now: datetime
) -> list[x509.Certificate]:
    """The DSCs of a signed trust list, after checking it (raises KeyMaterialError).

    Codes: ``trust_list_invalid`` (too large, not COSE, bad payload, a DSC not issued by the
    CSCA), ``trust_list_signature_invalid``, ``trust_list_expired``.
    """
    if len(data) > MAX_TRUST_LIST_BYTES:
        raise _invalid(f"signed trust list is larger than {MAX_TRUST_LIST_BYTES} bytes")
    try:
        message = parse_sign1(data)
    except DccError as exc:
        raise _invalid(f"not a COSE_Sign1 message: {exc.message}") from exc
    try:
        verify_sign1(message, csca.public_key())  # type: ignore[arg-type]
    except SignatureError as exc:
        raise _invalid(
            f"the signature is not the CSCA's: {exc.message}", code="trust_list_signature_invalid"
        ) from exc
    try:
        payload = loads_strict(message.payload)
    except DccError as exc:
        raise _invalid("the payload is not CBOR") from exc
    if not isinstance(payload, dict) or not {"iat", "exp", "dscs"} <= set(payload):
        raise _invalid("the payload is not {iss, iat, exp, dscs}")
    exp, dscs = payload["exp"], payload["dscs"]
    if not isinstance(exp, int) or not isinstance(dscs, list):
        raise _invalid("exp must be an integer and dscs a list")
    if now.timestamp() > exp + _SKEW.total_seconds():
        raise _invalid("the signed trust list has expired", code="trust_list_expired")
    if len(dscs) > MAX_TRUST_LIST_ENTRIES:
        raise _invalid(f"more than {MAX_TRUST_LIST_ENTRIES} entries")
    return [_dsc(entry, csca, index) for index, entry in enumerate(dscs)]
