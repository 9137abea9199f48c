"""The revocation hashes of a certificate (hcert.md §8, the EU DCC revocation list).

The list identifies a certificate by the first 128 bits of a SHA-256 hash, in base64 (24
characters). Three hash types exist:

* ``SIGNATURE`` (required for new implementations): the COSE signature; for ES256 only
  ``r``, its first 32 bytes, so that the malleable ``s`` cannot evade it; for PS256 the
  whole signature. ECDSA signatures are randomised, so this hash cannot be recomputed from
  the payload later: it is recorded when the certificate is issued.
* ``UCI`` (deprecated, still supported): the ``ci`` string (the UVCI), UTF-8, as in the
  payload.
* ``COUNTRYCODEUCI`` (deprecated): the ``iss`` claim followed by the ``ci``, UTF-8.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from typing import Final, Literal, get_args

__all__ = [
    "HASH_TYPES",
    "HashType",
    "RevocationHashes",
    "country_uci_hash",
    "revocation_hashes",
    "signature_hash",
    "uci_hash",
]

HashType = Literal["SIGNATURE", "UCI", "COUNTRYCODEUCI"]
HASH_TYPES: Final[tuple[HashType, ...]] = get_args(HashType)
ES256_SIGNATURE_BYTES: Final = 64  # raw r‖s of P-256; RSA-PSS signatures are ≥ 256 bytes
HASH_BYTES: Final = 16


def _prefix(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()[:HASH_BYTES]).decode("ascii")


def signature_hash(signature: bytes) -> str:
    """The ``SIGNATURE`` revocation hash of a COSE signature, base64 (24 characters)."""
    return _prefix(signature[:32] if len(signature) == ES256_SIGNATURE_BYTES else signature)


def uci_hash(uvci: str) -> str:
    """The ``UCI`` revocation hash of a certificate identifier (``ci``)."""
    return _prefix(uvci.encode("utf-8"))


def country_uci_hash(issuer: str, uvci: str) -> str:
    """The ``COUNTRYCODEUCI`` revocation hash: the ``iss`` claim, then the ``ci``."""
    return _prefix((issuer + uvci).encode("utf-8"))


@dataclass(frozen=True, slots=True)
class RevocationHashes:
    """The three hashes of one certificate, by type."""

    signature: str
    uci: str
    country_uci: str

    def of_type(self, hash_type: HashType) -> str:
        """The hash of ``hash_type``."""
        if hash_type == "SIGNATURE":
            return self.signature
        return self.uci if hash_type == "UCI" else self.country_uci


def revocation_hashes(signature: bytes, *, issuer: str, uvci: str) -> RevocationHashes:
    """All three hashes of a certificate signed with ``signature``."""
    return RevocationHashes(
        signature_hash(signature), uci_hash(uvci), country_uci_hash(issuer, uvci)
    )
