"""ES256 / PS256 as COSE uses them: raw r‖s, PSS salt 32, and keys pinned to one algorithm.

The oracle is ``cryptography`` used directly (DER re-encoding, explicit PSS parameters),
not the code under test.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from signing.algorithms import (
    ES256,
    PS256,
    PublicKey,
    _der_to_raw,
    alg_for_key,
    raw_signing_function,
    sign_raw,
    verify_raw,
)
from signing.errors import SignatureError

DATA = b"Sig_structure bytes stand-in"
P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def pss(salt_length: Any) -> padding.PSS:
    return padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=salt_length)


def test_es256_signature_is_64_raw_bytes_that_verify_after_der_encoding(
    p256_key: ec.EllipticCurvePrivateKey,
) -> None:
    """r‖s, each left-padded to 32 bytes: 64 bytes every time, never DER (hcert §1.3)."""
    public = p256_key.public_key()
    for index in range(200):  # r or s below 2^248 happens ~1 in 128: padding gets exercised
        data = DATA + index.to_bytes(2, "big")
        signature = sign_raw(p256_key, ES256, data)
        assert len(signature) == 64
        r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
        assert 0 < r < P256_ORDER
        assert 0 < s < P256_ORDER
        public.verify(encode_dss_signature(r, s), data, ec.ECDSA(hashes.SHA256()))
        verify_raw(public, ES256, data, signature)


def test_es256_accepts_a_signature_made_elsewhere(p256_key: ec.EllipticCurvePrivateKey) -> None:
    """A DER signature from cryptography, converted to raw r‖s by hand, verifies."""
    r, s = decode_dss_signature(p256_key.sign(DATA, ec.ECDSA(hashes.SHA256())))
    verify_raw(p256_key.public_key(), ES256, DATA, r.to_bytes(32, "big") + s.to_bytes(32, "big"))


def test_es256_refuses_der_and_wrong_lengths(p256_key: ec.EllipticCurvePrivateKey) -> None:
    public = p256_key.public_key()
    der = p256_key.sign(DATA, ec.ECDSA(hashes.SHA256()))
    raw = sign_raw(p256_key, ES256, DATA)
    for bad in (der, raw[:63], raw + b"\x00", b""):
        with pytest.raises(SignatureError) as caught:
            verify_raw(public, ES256, DATA, bad)
        assert caught.value.code == "signature_malformed"
    for bad in (b"\x00" * 64, b"\xff" * 64, raw[32:] + raw[:32]):
        with pytest.raises(SignatureError) as caught:
            verify_raw(public, ES256, DATA, bad)
        assert caught.value.code == "signature_invalid"


def test_ps256_uses_pss_mgf1_sha256_with_a_32_byte_salt(rsa_key: rsa.RSAPrivateKey) -> None:
    """Verifying with an explicit salt length recovers the salt: exactly 32 bytes passes."""
    public = rsa_key.public_key()
    signature = sign_raw(rsa_key, PS256, DATA)
    assert len(signature) == rsa_key.key_size // 8
    public.verify(signature, DATA, pss(32), hashes.SHA256())
    public.verify(signature, DATA, pss(padding.PSS.DIGEST_LENGTH), hashes.SHA256())
    public.verify(signature, DATA, pss(padding.PSS.AUTO), hashes.SHA256())
    # An explicit length is checked exactly (verifying with MAX_LENGTH, like AUTO, accepts
    # any salt up to the maximum with OpenSSL 3, so it would prove nothing).
    max_salt = rsa_key.key_size // 8 - 32 - 2
    for other in (0, 20, 31, 33, 64, max_salt):
        with pytest.raises(InvalidSignature):
            public.verify(signature, DATA, pss(other), hashes.SHA256())
    verify_raw(public, PS256, DATA, signature)


def test_ps256_verifies_a_salt_32_signature_made_elsewhere(rsa_key: rsa.RSAPrivateKey) -> None:
    """Interop: cryptography's own PSS(salt 32) signature passes; a MAX_LENGTH salt is refused."""
    public = rsa_key.public_key()
    verify_raw(public, PS256, DATA, rsa_key.sign(DATA, pss(32), hashes.SHA256()))
    with pytest.raises(SignatureError) as caught:
        verify_raw(
            public, PS256, DATA, rsa_key.sign(DATA, pss(padding.PSS.MAX_LENGTH), hashes.SHA256())
        )
    assert caught.value.code == "signature_invalid"


def test_ps256_refuses_pkcs1_v15_and_garbage_without_leaking_other_exceptions(
    rsa_key: rsa.RSAPrivateKey,
) -> None:
    public = rsa_key.public_key()
    pkcs1 = rsa_key.sign(DATA, padding.PKCS1v15(), hashes.SHA256())
    for bad in (pkcs1, b"", b"\x00" * 10, b"\x00" * 256, b"\xff" * 256, b"\x01" * 257):
        with pytest.raises(SignatureError) as caught:
            verify_raw(public, PS256, DATA, bad)
        assert caught.value.code == "signature_invalid"


def test_any_change_to_the_data_fails(
    p256_key: ec.EllipticCurvePrivateKey, rsa_key: rsa.RSAPrivateKey
) -> None:
    for key, alg in ((p256_key, ES256), (rsa_key, PS256)):
        signature = sign_raw(key, alg, DATA)
        with pytest.raises(SignatureError):
            verify_raw(key.public_key(), alg, DATA + b"!", signature)


def test_alg_for_key_pins_p256_to_es256_and_rsa_to_ps256(
    p256_key: ec.EllipticCurvePrivateKey, rsa_key: rsa.RSAPrivateKey
) -> None:
    assert alg_for_key(p256_key) == alg_for_key(p256_key.public_key()) == ES256 == -7
    assert alg_for_key(rsa_key) == alg_for_key(rsa_key.public_key()) == PS256 == -37


@pytest.mark.parametrize(
    ("make_key", "code"),
    [
        pytest.param(
            lambda: ec.generate_private_key(ec.SECP384R1()), "key_curve_unsupported", id="P-384"
        ),
        pytest.param(
            lambda: ec.generate_private_key(ec.SECP256K1()), "key_curve_unsupported", id="secp256k1"
        ),
        pytest.param(
            lambda: rsa.generate_private_key(public_exponent=65537, key_size=1024),
            "key_size_unsupported",
            id="RSA-1024",
        ),
        pytest.param(
            lambda: ed25519.Ed25519PrivateKey.generate(), "key_type_unsupported", id="Ed25519"
        ),
        pytest.param(lambda: "not a key", "key_type_unsupported", id="str"),
    ],
)
def test_alg_for_key_refuses_keys_the_dcc_does_not_allow(
    make_key: Callable[[], object], code: str
) -> None:
    key = make_key()
    with pytest.raises(SignatureError) as caught:
        alg_for_key(key)
    assert caught.value.code == code
    public = getattr(key, "public_key", None)
    if public is not None:
        with pytest.raises(SignatureError):
            alg_for_key(public())


def test_sign_raw_refuses_an_algorithm_that_does_not_fit_the_key(
    p256_key: ec.EllipticCurvePrivateKey, rsa_key: rsa.RSAPrivateKey
) -> None:
    for key, alg in ((p256_key, PS256), (rsa_key, ES256), (p256_key, -35), (rsa_key, -257)):
        with pytest.raises(SignatureError) as caught:
            sign_raw(key, alg, DATA)
        assert caught.value.code == "alg_key_mismatch"
        with pytest.raises(SignatureError) as caught:
            raw_signing_function(key, alg)  # refused when bound, before any data
        assert caught.value.code == "alg_key_mismatch"


def _oracle_raw(der: bytes) -> bytes:
    r, s = decode_dss_signature(der)
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


@settings(max_examples=500, deadline=None)
@given(
    st.integers(min_value=1, max_value=P256_ORDER - 1),
    st.integers(min_value=1, max_value=P256_ORDER - 1),
    st.integers(min_value=0, max_value=255),
    st.integers(min_value=0, max_value=255),
)
def test_der_to_raw_agrees_with_decode_dss_signature(
    r: int, s: int, r_bits: int, s_bits: int
) -> None:
    """The hand DER parse equals cryptography's, incl. short integers and leading zeros."""
    for r_value, s_value in ((r, s), (r >> r_bits or 1, s >> s_bits or 1)):
        der = encode_dss_signature(r_value, s_value)
        assert _der_to_raw(der) == _oracle_raw(der)


def test_der_to_raw_of_real_signatures(p256_key: ec.EllipticCurvePrivateKey) -> None:
    sign = raw_signing_function(p256_key, ES256)
    for index in range(300):
        data = DATA + index.to_bytes(2, "big")
        der = p256_key.sign(data, ec.ECDSA(hashes.SHA256()))
        assert _der_to_raw(der) == _oracle_raw(der)
        verify_raw(p256_key.public_key(), ES256, data, sign(data))


def test_verify_raw_refuses_algorithm_confusion(
    p256_key: ec.EllipticCurvePrivateKey, rsa_key: rsa.RSAPrivateKey
) -> None:
    """The message's alg must be the key's one alg: never trusted on its own."""
    es_sig = sign_raw(p256_key, ES256, DATA)
    ps_sig = sign_raw(rsa_key, PS256, DATA)
    cases: list[tuple[PublicKey, int, bytes]] = [
        (p256_key.public_key(), PS256, es_sig),
        (rsa_key.public_key(), ES256, ps_sig),
        (rsa_key.public_key(), -257, ps_sig),  # RS256
        (p256_key.public_key(), -35, es_sig),  # ES384
        (p256_key.public_key(), 0, es_sig),
    ]
    for public, alg, signature in cases:
        with pytest.raises(SignatureError) as caught:
            verify_raw(public, alg, DATA, signature)
        assert caught.value.code == "alg_key_mismatch"
