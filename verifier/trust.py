"""The trust store: the DSC certificates a verifier accepts, looked up by kid.

Kids are always recomputed from each certificate's DER (never taken from a list entry's
``kid`` field). 8-byte kids can collide, so a kid maps to a list; the verifier tries at most
:data:`MAX_CANDIDATES_PER_KID` of them (hardening.md §4 #29). Each certificate's public key
is read once, when the store is built; its allowed DCC types (extended key usage) once, when
first needed.

Each certificate remembers the trust list it came from (:class:`TrustListInfo`: its name,
kind and age), so a report can say which list vouched for the signer. Stores combine
(:meth:`TrustStore.combined`): the service's own keys and the imported lists stay separate
sources and are merged for verification.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
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
from verifier.dates import format_instant

__all__ = ["MAX_CANDIDATES_PER_KID", "TrustListInfo", "TrustStore", "TrustedCertificate"]

MAX_CANDIDATES_PER_KID: Final = 8
_ALLOWED: Final = "allowed_cert_types"


@dataclass(frozen=True, slots=True)
class TrustListInfo:
    """Where trusted certificates came from: a list's name, kind, age and size.

    ``kind`` is ``gateway`` (EU gateway JSON), ``de-signed`` (the German two-line list, its
    signature verified), ``certificates`` (PEM, DER or our JSON) or ``own`` (this service's
    keys). ``updated_at`` is the newest entry timestamp of the list, else the file's
    modification time, else None; ``countries`` the subject countries of its DSCs.
    """

    name: str
    kind: str
    updated_at: datetime | None
    count: int
    countries: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, object]:
        """``{"name", "kind", "updated_at"}`` (``updated_at`` as ``YYYY-MM-DDThh:mm:ssZ``)."""
        updated = self.updated_at
        return {
            "name": self.name,
            "kind": self.kind,
            "updated_at": format_instant(updated) if updated else None,
        }


@dataclass(frozen=True, slots=True)
class TrustedCertificate:
    """A trusted DSC with its kid and public key (None when the key type is unusable)."""

    certificate: x509.Certificate
    kid: bytes
    public_key: PublicKey | None
    source: TrustListInfo | None = None
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

    __slots__ = ("_by_kid", "_count", "sources")

    def __init__(
        self, certificates: Iterable[x509.Certificate], *, source: TrustListInfo | None = None
    ) -> None:
        """Build from certificates (all from ``source``); duplicates (same DER) are kept once."""
        self._by_kid: dict[bytes, tuple[TrustedCertificate, ...]] = {}
        self._count = 0
        self.sources: tuple[TrustListInfo, ...] = (source,) if source is not None else ()
        self._add(
            TrustedCertificate(cert, compute_kid(cert), _public_key(cert), source)
            for cert in certificates
        )

    def _add(self, entries: Iterable[TrustedCertificate]) -> None:
        by_kid = {kid: list(items) for kid, items in self._by_kid.items()}
        seen = {certificate_der(item.certificate) for items in by_kid.values() for item in items}
        for entry in entries:
            der = certificate_der(entry.certificate)
            if der in seen:
                continue
            seen.add(der)
            by_kid.setdefault(entry.kid, []).append(entry)
        self._by_kid = {kid: tuple(items) for kid, items in by_kid.items()}
        self._count = len(seen)

    @classmethod
    def combined(cls, stores: Iterable[TrustStore]) -> TrustStore:
        """One store holding every certificate of ``stores`` (the first source wins a DSC
        that several hold), with all their sources."""
        merged = cls(())
        sources: list[TrustListInfo] = []
        for store in stores:
            merged._add(item for items in store._by_kid.values() for item in items)
            sources.extend(store.sources)
        merged.sources = tuple(sources)
        return merged

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
            data, _ = read_trust_file(path)
            with naming_trust_file(path):
                certificates.extend(parse_certificates(data))
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


def read_trust_file(path: Path) -> tuple[bytes, datetime]:
    """The bytes of a trust file (at most one byte over the list limit, so that the parser
    refuses it) and its modification time; ``trust_file_unreadable`` naming it."""
    try:
        with path.open("rb") as handle:
            modified = datetime.fromtimestamp(os.fstat(handle.fileno()).st_mtime, UTC)
            return handle.read(MAX_TRUST_LIST_BYTES + 1), modified
    except OSError as exc:
        raise KeyMaterialError(
            f"cannot read trust file {path}: {exc.strerror or exc}",
            code="trust_file_unreadable",
            path=str(path),
        ) from exc


@contextlib.contextmanager
def naming_trust_file(path: Path) -> Iterator[None]:
    """A :class:`KeyMaterialError` raised inside, again with the file's path in front."""
    try:
        yield
    except KeyMaterialError as exc:
        raise KeyMaterialError(
            f"trust file {path}: {exc.message}", code=exc.code, path=str(path)
        ) from exc
