"""What the issuer keeps to revoke a certificate later (hcert.md §8).

The DCC revocation list identifies a certificate by the first 128 bits of a SHA-256 hash,
base64. The ``SIGNATURE`` hash type (the one required for new implementations) hashes the
COSE signature: for ES256 only ``r``, its first 32 bytes, so that the malleable ``s`` cannot
evade it; for PS256 the whole signature. ECDSA signatures are randomised, so the hash cannot
be recomputed from the payload later: it must be recorded when the certificate is issued.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Final

__all__ = ["signature_hash"]

ES256_SIGNATURE_BYTES: Final = 64  # raw r‖s of P-256; RSA-PSS signatures are ≥ 256 bytes
HASH_BYTES: Final = 16


def signature_hash(signature: bytes) -> str:
    """The ``SIGNATURE`` revocation hash of a COSE signature, base64 (24 characters)."""
    signed = signature[:32] if len(signature) == ES256_SIGNATURE_BYTES else signature
    return base64.b64encode(hashlib.sha256(signed).digest()[:HASH_BYTES]).decode("ascii")
