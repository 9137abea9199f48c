"""COSE_Sign1 for the EU DCC: strict CBOR, ES256/PS256, signers and the signer pool."""

from signing.algorithms import ES256, PS256, alg_for_key, sign_raw, verify_raw
from signing.cose import Sign1, encode_sign1, parse_sign1, sig_structure, verify_sign1
from signing.errors import (
    ConfigError,
    DccError,
    DecodeError,
    KeyMaterialError,
    SignatureError,
    SignerUnavailable,
    SigningError,
)
from signing.signer import LocalSigner, Signer

__all__ = [
    "ES256",
    "PS256",
    "ConfigError",
    "DccError",
    "DecodeError",
    "KeyMaterialError",
    "LocalSigner",
    "Sign1",
    "SignatureError",
    "Signer",
    "SignerUnavailable",
    "SigningError",
    "alg_for_key",
    "encode_sign1",
    "parse_sign1",
    "sig_structure",
    "sign_raw",
    "verify_raw",
    "verify_sign1",
]
