"""Keys shared by the signing tests: generated once per session (RSA is the slow one)."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from signing.signer import LocalSigner


@pytest.fixture(scope="session")
def p256_key() -> ec.EllipticCurvePrivateKey:
    """A P-256 private key (ES256)."""
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture(scope="session")
def rsa_key() -> rsa.RSAPrivateKey:
    """An RSA-2048 private key (PS256; the spec's modulus size)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="session")
def kid() -> bytes:
    """The kid of the LU test DSC (hcert.md §1.3), reused as an 8-byte kid."""
    return bytes.fromhex("991c5aa728b1489d")


@pytest.fixture
def es256_signer(p256_key: ec.EllipticCurvePrivateKey, kid: bytes) -> LocalSigner:
    """A real ES256 signer."""
    return LocalSigner(p256_key, kid)
