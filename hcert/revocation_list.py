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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

from hcert.revocation import HASH_BYTES, HASH_TYPES, HashType, RevocationHashes
from signing.errors import DccError

__all__ = [
    "MAX_BATCH_ENTRIES",
    "MAX_LIST_ENTRIES",
    "UNKNOWN_KID",
    "RevocationList",
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


@dataclass(frozen=True, slots=True)
class RevokedEntry:
    """One revoked certificate: its DSC's kid (base64), its ``exp`` and its three hashes."""

    kid: str
    expires_at: int
    hashes: RevocationHashes


def _instant(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _batch_id(kid: str, hash_type: str, hashes: Sequence[str]) -> str:
    digest = hashlib.sha256("\n".join([kid, hash_type, *hashes]).encode("ascii")).hexdigest()
    return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"


def build_batches(entries: Iterable[RevokedEntry], *, country: str) -> list[dict[str, Any]]:
    """The batches of ``entries``: per kid and hash type, by ``exp``, at most 1000 each."""
    ordered = sorted(entries, key=lambda entry: (entry.kid, entry.expires_at))
    batches: list[dict[str, Any]] = []
    for kid, group in itertools.groupby(ordered, key=lambda entry: entry.kid):
        items = list(group)
        for hash_type in HASH_TYPES:
            for start in range(0, len(items), MAX_BATCH_ENTRIES):
                chunk = items[start : start + MAX_BATCH_ENTRIES]
                hashes = [entry.hashes.of_type(hash_type) for entry in chunk]
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


def build_document(entries: Iterable[RevokedEntry], *, country: str) -> dict[str, Any]:
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
    """Revoked hashes by (hash type, hash) → the kids whose certificates they revoke."""

    _kids: dict[tuple[str, str], set[str]] = field(default_factory=dict)
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
    def from_entries(cls, entries: Iterable[RevokedEntry]) -> RevocationList:
        """The list of our own revoked certificates (their hashes are trusted: no checks)."""
        revocations = cls()
        kids = revocations._kids
        for entry in entries:
            hashes = entry.hashes
            for key in (
                ("SIGNATURE", hashes.signature),
                ("UCI", hashes.uci),
                ("COUNTRYCODEUCI", hashes.country_uci),
            ):
                kids.setdefault(key, set()).add(entry.kid)
            revocations.entries += 3
        return revocations

    def extend(self, other: RevocationList) -> None:
        """Add every revoked hash of ``other``."""
        for key, kids in other._kids.items():
            self._kids.setdefault(key, set()).update(kids)
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
        for item in entries:
            self._kids.setdefault((hash_type, _hash_value(item)), set()).add(kid)
        self.batches += 1
        self.entries += len(entries)

    def match(
        self, kid: str, hashes: RevocationHashes, *, types: Sequence[HashType] = HASH_TYPES
    ) -> HashType | None:
        """The first hash type under which a certificate signed by ``kid`` is revoked."""
        for hash_type in types:
            kids = self._kids.get((hash_type, hashes.of_type(hash_type)))
            if kids is not None and (kid in kids or UNKNOWN_KID in kids):
                return hash_type
        return None

    def __len__(self) -> int:
        return self.entries
