"""LocalSigner: the algorithm follows the key, signatures verify, the key never shows."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from signing.algorithms import ES256, PS256, verify_raw
from signing.cose import encode_sign1, parse_sign1, verify_sign1
from signing.errors import SignatureError
from signing.signer import LocalSigner, Signer


def test_es256_and_ps256_signers(
    p256_key: ec.EllipticCurvePrivateKey, rsa_key: rsa.RSAPrivateKey, kid: bytes
) -> None:
    for key, alg in ((p256_key, ES256), (rsa_key, PS256)):
        signer = LocalSigner(key, kid)
        assert isinstance(signer, Signer)
        assert signer.alg == alg
        assert signer.kid == kid
        signature = signer.sign(b"data")
        verify_raw(key.public_key(), alg, b"data", signature)


def test_a_signer_plugs_into_encode_sign1(
    es256_signer: LocalSigner, p256_key: ec.EllipticCurvePrivateKey
) -> None:
    message = encode_sign1(
        b"\xa0", alg=es256_signer.alg, kid=es256_signer.kid, sign=es256_signer.sign
    )
    parsed = parse_sign1(message)
    assert parsed.kid == es256_signer.kid
    verify_sign1(parsed, p256_key.public_key())


def test_a_key_the_dcc_does_not_allow_is_refused_at_construction(kid: bytes) -> None:
    with pytest.raises(SignatureError) as caught:
        LocalSigner(ec.generate_private_key(ec.SECP384R1()), kid)
    assert caught.value.code == "key_curve_unsupported"


def test_repr_shows_alg_and_kid_but_no_key_material(
    es256_signer: LocalSigner, p256_key: ec.EllipticCurvePrivateKey, kid: bytes
) -> None:
    text = repr(es256_signer)
    assert kid.hex() in text
    assert "-7" in text
    secret = p256_key.private_numbers().private_value
    assert str(secret) not in text
    assert format(secret, "x") not in text
    pem = p256_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    assert pem.decode() not in text
    assert not hasattr(es256_signer, "__dict__")  # slots: no stray attributes to leak


def test_sign_is_bound_once_and_checked_at_construction(
    es256_signer: LocalSigner, p256_key: ec.EllipticCurvePrivateKey
) -> None:
    """``sign`` is a function chosen for the key at construction, not a per-call dispatch."""
    sign = es256_signer.sign
    assert sign is es256_signer.sign
    signature = sign(b"data")
    assert len(signature) == 64
    verify_raw(p256_key.public_key(), ES256, b"data", signature)
