"""The ``Signer`` seam: who turns Sig_structure bytes into a signature, and with which key.

Backends: :class:`LocalSigner` (a private key in memory, loaded from files by ``keys/``);
PKCS#11 later. The pool in :mod:`signing.pool` hands signers out with bounded waiting.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, runtime_checkable

from signing.algorithms import PrivateKey, alg_for_key, raw_signing_function

__all__ = ["LocalSigner", "Signer"]


@runtime_checkable
class Signer(Protocol):
    """Anything that signs COSE Sig_structure bytes for one DSC."""

    @property
    def alg(self) -> int:
        """The COSE algorithm (-7 ES256, -37 PS256)."""
        ...

    @property
    def kid(self) -> bytes:
        """The 8-byte key identifier of the DSC."""
        ...

    def sign(self, data: bytes) -> bytes:
        """Return the raw COSE signature over ``data``."""
        ...


class LocalSigner:
    """A signer holding its private key in this process (the file-key backend).

    ``sign`` is bound once at construction to a function for this key and algorithm (see
    :func:`signing.algorithms.raw_signing_function`), so a signature pays no per-call
    method dispatch or key-type checks.
    """

    __slots__ = ("_alg", "_key", "_kid", "sign")

    sign: Callable[[bytes], bytes]
    """Return the raw COSE signature over the given Sig_structure bytes."""

    def __init__(self, private_key: PrivateKey, kid: bytes) -> None:
        self._key = private_key
        self._kid = kid
        self._alg = alg_for_key(private_key)
        self.sign = raw_signing_function(private_key, self._alg)

    @property
    def alg(self) -> int:
        return self._alg

    @property
    def kid(self) -> bytes:
        return self._kid

    def __repr__(self) -> str:
        return f"LocalSigner(alg={self._alg}, kid={self._kid.hex()})"
