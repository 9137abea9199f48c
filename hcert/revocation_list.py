"""The revocation list in the EU gateway's batch form (hcert.md §8): built and read.

A batch is ``{batchId, country, expires, kid, hashType, entries: [{hash}]}``, as the DCC
gateway takes them: all entries of a batch share the signing DSC (``kid``, base64, or
``UNKNOWN_KID``) and the hash type (``SIGNATURE``, ``UCI``, ``COUNTRYCODEUCI``); a batch holds
at most :data:`MAX_BATCH_ENTRIES`; ``expires`` is the latest ``exp`` of its certificates
(entries are sorted by ``exp`` before they are cut into batches, so a batch's certificates
expire close together). ``hash`` is base64 of the first 16 bytes of the SHA-256
(:mod:`hcert.revocation`). The published document is ``{"country", "batches": [...]}``;
:func:`build_document` is deterministic (same revocations, same bytes), so its SHA-256 is a
strong ETag. ``batchId`` is derived from the batch's content for the same reason.

:class:`RevocationList` reads such documents (ours, or imported files: a document, a list
of batches or one batch) and answers whether a certificate's hashes are on it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import itertools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from operator import attrgetter
from typing import Any, Final, Protocol

from hcert.revocation import HASH_BYTES, HASH_TYPES, HashType, RevocationHashes
from signing.errors import DccError

__all__ = [
    "MAX_BATCH_ENTRIES",
    "MAX_LIST_ENTRIES",
    "UNKNOWN_KID",
    "RevocationList",
    "RevokedCertificate",
    "RevokedEntry",
    "build_batches",
    "build_document",
]

MAX_BATCH_ENTRIES: Final = 1000
"""The gateway's limit of entries per batch."""
MAX_LIST_ENTRIES: Final = 5_000_000
"""Entries one :class:`RevocationList` reads at most (bounded input)."""
UNKNOWN_KID: Final = "UNKNOWN_KID"
_HASH_CHARS: Final = 24


class RevokedCertificate(Protocol):
    """What the list needs of a revoked certificate (a row of the store's listing is one)."""

    @property
    def kid(self) -> str: ...
    @property
    def expires_at(self) -> int: ...
    @property
    def signature_hash(self) -> str: ...
    @property
    def uci_hash(self) -> str: ...
    @property
    def country_uci_hash(self) -> str: ...


@dataclass(frozen=True, slots=True)
class RevokedEntry:
    """One revoked certificate: its DSC's kid (base64), its ``exp`` and its three hashes."""

    kid: str
    expires_at: int
    signature_hash: str
    uci_hash: str
    country_uci_hash: str

    @classmethod
    def of(cls, kid: str, expires_at: int, hashes: RevocationHashes) -> RevokedEntry:
        """The entry of a certificate with ``hashes``."""
        return cls(kid, expires_at, hashes.signature, hashes.uci, hashes.country_uci)


_FIELDS: Final[dict[HashType, Callable[[RevokedCertificate], str]]] = {
    "SIGNATURE": attrgetter("signature_hash"),
    "UCI": attrgetter("uci_hash"),
    "COUNTRYCODEUCI": attrgetter("country_uci_hash"),
}


def _instant(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _batch_id(kid: str, hash_type: str, hashes: Sequence[str]) -> str:
    digest = hashlib.sha256("\n".join([kid, hash_type, *hashes]).encode("ascii")).hexdigest()
    return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"


def build_batches(entries: Iterable[RevokedCertificate], *, country: str) -> list[dict[str, Any]]:
    """The batches of ``entries``: per kid and hash type, by ``exp``, at most 1000 each."""
    ordered = sorted(entries, key=lambda entry: (entry.kid, entry.expires_at))
    batches: list[dict[str, Any]] = []
    for kid, group in itertools.groupby(ordered, key=lambda entry: entry.kid):
        items = list(group)
        for hash_type in HASH_TYPES:
            for start in range(0, len(items), MAX_BATCH_ENTRIES):
                chunk = items[start : start + MAX_BATCH_ENTRIES]
                hashes = list(map(_FIELDS[hash_type], chunk))
                batches.append(
                    {
                        "batchId": _batch_id(kid, hash_type, hashes),
                        "country": country,
                        "expires": _instant(max(entry.expires_at for entry in chunk)),
                        "kid": kid,
                        "hashType": hash_type,
                        "entries": [{"hash": value} for value in hashes],
                    }
                )
    return batches


def build_document(entries: Iterable[RevokedCertificate], *, country: str) -> dict[str, Any]:
    """The published list: ``{"country", "batches"}`` (deterministic for the same entries)."""
    return {"country": country, "batches": build_batches(entries, country=country)}


def _invalid(message: str) -> DccError:
    return DccError(f"revocation list: {message}", code="revocation_list_invalid")


def _hash_value(item: object) -> str:
    value = item.get("hash") if isinstance(item, Mapping) else None
    if not isinstance(value, str) or len(value) != _HASH_CHARS:
        raise _invalid("every entry needs a 'hash' of 24 base64 characters")
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise _invalid("an entry's hash is not base64") from None
    if len(raw) != HASH_BYTES:
        raise _invalid("an entry's hash is not 16 bytes")
    return value


@dataclass
class RevocationList:
    """Revoked (hash type, hash, kid) triples: a hash revokes only its kid's certificates
    (or any kid's, in a batch of ``UNKNOWN_KID``)."""

    _revoked: set[tuple[str, str, str]] = field(default_factory=set)
    batches: int = 0
    entries: int = 0

    @classmethod
    def from_documents(cls, documents: Iterable[object]) -> RevocationList:
        """One list from parsed JSON documents (raise ``revocation_list_invalid``)."""
        revocations = cls()
        for document in documents:
            revocations.add_document(document)
        return revocations

    @classmethod
    def from_entries(cls, entries: Sequence[RevokedCertificate]) -> RevocationList:
        """The list of our own revoked certificates (their hashes are trusted: no checks)."""
        revocations = cls()
        revoked = revocations._revoked
        for hash_type, hash_of in _FIELDS.items():
            revoked.update((hash_type, hash_of(entry), entry.kid) for entry in entries)
        revocations.entries = 3 * len(entries)
        return revocations

    def extend(self, other: RevocationList) -> None:
        """Add every revoked hash of ``other``."""
        self._revoked.update(other._revoked)
        self.batches += other.batches
        self.entries += other.entries

    def add_document(self, document: object) -> None:
        """Add a document ``{"batches": [...]}``, a list of batches or one batch."""
        if isinstance(document, Mapping) and "batches" in document:
            batches = document["batches"]
        elif isinstance(document, Mapping) and "entries" in document:
            batches = [document]
        else:
            batches = document
        if not isinstance(batches, list):
            raise _invalid("expected {'batches': [...]}, a list of batches or one batch")
        for batch in batches:
            self._add_batch(batch)

    def _add_batch(self, batch: object) -> None:
        if not isinstance(batch, Mapping):
            raise _invalid("a batch is not an object")
        hash_type, kid, entries = batch.get("hashType"), batch.get("kid"), batch.get("entries")
        if hash_type not in HASH_TYPES:
            raise _invalid(f"hashType must be one of {', '.join(HASH_TYPES)}")
        if not isinstance(kid, str) or not kid:
            raise _invalid("a batch needs its kid (base64, or UNKNOWN_KID)")
        if not isinstance(entries, list):
            raise _invalid("a batch needs a list of entries")
        if self.entries + len(entries) > MAX_LIST_ENTRIES:
            raise _invalid(f"more than {MAX_LIST_ENTRIES} entries")
        self._revoked.update((hash_type, _hash_value(item), kid) for item in entries)
        self.batches += 1
        self.entries += len(entries)

    def match(
        self, kid: str, hashes: RevocationHashes, *, types: Sequence[HashType] = HASH_TYPES
    ) -> HashType | None:
        """The first hash type under which a certificate signed by ``kid`` is revoked."""
        revoked = self._revoked
        for hash_type in types:
            value = hashes.of_type(hash_type)
            if (hash_type, value, kid) in revoked or (hash_type, value, UNKNOWN_KID) in revoked:
                return hash_type
        return None

    def __len__(self) -> int:
        return self.entries
