"""COSE signature algorithms used by the EU DCC: ES256 and PS256, as raw COSE signatures."""

from __future__ import annotations

from typing import Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from signing.errors import SignatureError

__all__ = [
    "ALG_NAMES",
    "ES256",
    "PS256",
    "PrivateKey",
    "PublicKey",
    "alg_for_key",
    "sign_raw",
    "verify_raw",
]

ES256: Final = -7
PS256: Final = -37
ALG_NAMES: Final[dict[int, str]] = {ES256: "ES256", PS256: "PS256"}

PS256_SALT_LENGTH: Final = 32
P256_COORD_BYTES: Final = 32
MIN_RSA_BITS: Final = 2048

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
PublicKey = ec.EllipticCurvePublicKey | rsa.RSAPublicKey

_PSS = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=PS256_SALT_LENGTH)


def alg_for_key(key: PrivateKey | PublicKey | object) -> int:
    """The one COSE algorithm a key may be used with: P-256 → ES256, RSA ≥ 2048 → PS256.

    Pinning the algorithm to the key stops algorithm-confusion attacks: the ``alg`` of a
    message is checked against this, never trusted on its own.
    """
    if isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        if not isinstance(key.curve, ec.SECP256R1):
            raise SignatureError(
                f"EC keys must be on P-256, not {key.curve.name}", code="key_curve_unsupported"
            )
        return ES256
    if isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey):
        if key.key_size < MIN_RSA_BITS:
            raise SignatureError(
                f"RSA keys must have at least {MIN_RSA_BITS} bits, not {key.key_size}",
                code="key_size_unsupported",
            )
        return PS256
    raise SignatureError(f"unsupported key type {type(key).__name__}", code="key_type_unsupported")


def sign_raw(key: PrivateKey, alg: int, data: bytes) -> bytes:
    """Sign ``data`` and return the COSE signature: raw r‖s (64 bytes) or the RSA-PSS bytes."""
    if alg == ES256 and isinstance(key, ec.EllipticCurvePrivateKey):
        r, s = decode_dss_signature(key.sign(data, ec.ECDSA(hashes.SHA256())))
        return r.to_bytes(P256_COORD_BYTES, "big") + s.to_bytes(P256_COORD_BYTES, "big")
    if alg == PS256 and isinstance(key, rsa.RSAPrivateKey):
        return key.sign(data, _PSS, hashes.SHA256())
    raise SignatureError(
        f"algorithm {ALG_NAMES.get(alg, alg)} does not fit a {type(key).__name__}",
        code="alg_key_mismatch",
    )


def verify_raw(key: PublicKey, alg: int, data: bytes, signature: bytes) -> None:
    """Verify a COSE signature over ``data``; raise :class:`SignatureError` when it fails."""
    if alg != alg_for_key(key):
        raise SignatureError(
            f"algorithm {ALG_NAMES.get(alg, alg)} does not fit the certificate's key",
            code="alg_key_mismatch",
        )
    try:
        if isinstance(key, ec.EllipticCurvePublicKey):
            if len(signature) != 2 * P256_COORD_BYTES:
                raise SignatureError(
                    f"ES256 signatures are 64 raw bytes, got {len(signature)}",
                    code="signature_malformed",
                )
            r = int.from_bytes(signature[:P256_COORD_BYTES], "big")
            s = int.from_bytes(signature[P256_COORD_BYTES:], "big")
            key.verify(encode_dss_signature(r, s), data, ec.ECDSA(hashes.SHA256()))
        else:
            key.verify(signature, data, _PSS, hashes.SHA256())
    except InvalidSignature as exc:
        raise SignatureError("signature does not verify", code="signature_invalid") from exc
