"""The trust store: the DSC certificates a verifier accepts, looked up by kid.

Kids are always recomputed from each certificate's DER (never taken from a list entry's
``kid`` field). 8-byte kids can collide, so a kid maps to a list; the verifier tries at most
:data:`MAX_CANDIDATES_PER_KID` of them (hardening.md §4 #29). Each certificate's public key
is read once, when the store is built; its allowed DCC types (extended key usage) once, when
first needed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from keys.eku import CertType, allowed_cert_types
from keys.kid import certificate_der, compute_kid
from keys.trust_list import MAX_TRUST_LIST_BYTES, parse_certificates
from signing.algorithms import PublicKey
from signing.errors import KeyMaterialError

__all__ = ["MAX_CANDIDATES_PER_KID", "TrustStore", "TrustedCertificate"]

MAX_CANDIDATES_PER_KID: Final = 8
_ALLOWED: Final = "allowed_cert_types"


@dataclass(frozen=True, slots=True)
class TrustedCertificate:
    """A trusted DSC with its kid and public key (None when the key type is unusable)."""

    certificate: x509.Certificate
    kid: bytes
    public_key: PublicKey | None
    _memo: dict[str, frozenset[CertType]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def allowed_cert_types(self) -> frozenset[CertType]:
        """:func:`keys.eku.allowed_cert_types` of the certificate, read once per entry.

        A failure (``KeyMaterialError``) is not remembered: it is raised again each time.
        """
        allowed = self._memo.get(_ALLOWED)
        if allowed is None:
            allowed = self._memo[_ALLOWED] = allowed_cert_types(self.certificate)
        return allowed


def _public_key(cert: x509.Certificate) -> PublicKey | None:
    try:
        key = cert.public_key()
    except (ValueError, UnsupportedAlgorithm):
        return None
    return key if isinstance(key, ec.EllipticCurvePublicKey | rsa.RSAPublicKey) else None


class TrustStore:
    """Trusted DSCs by kid (immutable once built)."""

    __slots__ = ("_by_kid", "_count")

    def __init__(self, certificates: Iterable[x509.Certificate]) -> None:
        """Build from certificates; duplicates (same DER) are kept once."""
        by_kid: dict[bytes, list[TrustedCertificate]] = {}
        seen: set[bytes] = set()
        for cert in certificates:
            der = certificate_der(cert)
            if der in seen:
                continue
            seen.add(der)
            kid = compute_kid(cert)
            by_kid.setdefault(kid, []).append(TrustedCertificate(cert, kid, _public_key(cert)))
        self._by_kid: dict[bytes, tuple[TrustedCertificate, ...]] = {
            kid: tuple(entries) for kid, entries in by_kid.items()
        }
        self._count = len(seen)

    @classmethod
    def from_certificates(cls, certificates: Iterable[x509.Certificate]) -> TrustStore:
        """A store holding ``certificates``."""
        return cls(certificates)

    @classmethod
    def from_bytes(cls, data: bytes) -> TrustStore:
        """Read PEM, DER, base64 DER or a trust-list JSON (see ``keys.trust_list``).

        Raises :class:`KeyMaterialError` (``trust_list_invalid``) when nothing can be read.
        """
        return cls(parse_certificates(data))

    @classmethod
    def from_files(cls, paths: Sequence[Path]) -> TrustStore:
        """Read every file of ``paths`` (each in any form :meth:`from_bytes` accepts).

        Raises :class:`KeyMaterialError` (``trust_file_unreadable`` or
        ``trust_list_invalid``) naming the file that failed.
        """
        certificates: list[x509.Certificate] = []
        for path in paths:
            try:
                with path.open("rb") as handle:
                    data = handle.read(MAX_TRUST_LIST_BYTES + 1)
            except OSError as exc:
                raise KeyMaterialError(
                    f"cannot read trust file {path}: {exc.strerror or exc}",
                    code="trust_file_unreadable",
                    path=str(path),
                ) from exc
            try:
                certificates.extend(parse_certificates(data))
            except KeyMaterialError as exc:
                raise KeyMaterialError(
                    f"trust file {path}: {exc.message}", code=exc.code, path=str(path)
                ) from exc
        return cls(certificates)

    def candidates(self, kid: bytes) -> tuple[TrustedCertificate, ...]:
        """The trusted certificates with ``kid``, at most :data:`MAX_CANDIDATES_PER_KID`."""
        return self._by_kid.get(kid, ())[:MAX_CANDIDATES_PER_KID]

    def __contains__(self, kid: object) -> bool:
        return kid in self._by_kid

    def __len__(self) -> int:
        return self._count

    def __repr__(self) -> str:
        return f"TrustStore({self._count} certificates, {len(self._by_kid)} kids)"
