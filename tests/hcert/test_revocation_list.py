"""The revocation list's batch form: per kid and hash type, <= 1000 entries, expiry, reading."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import pytest

from hcert.revocation import HASH_TYPES, RevocationHashes, revocation_hashes
from hcert.revocation_list import (
    MAX_BATCH_ENTRIES,
    UNKNOWN_KID,
    RevocationList,
    RevokedEntry,
    build_document,
)
from signing.errors import DccError

KID_A, KID_B = "AAECAwQFBgc=", "CAkKCwwNDg8="


def entry(number: int, kid: str = KID_A, expires: int = 1_700_000_000) -> RevokedEntry:
    signature = hashlib.sha256(str(number).encode()).digest() * 2  # 64 bytes, like ES256
    uvci = f"URN:UVCI:01:LU:{number:026d}#A"
    hashes = revocation_hashes(signature, issuer="LU", uvci=uvci)
    return RevokedEntry.of(kid, expires + number, hashes)


def hashes_of(entry: RevokedEntry) -> RevocationHashes:
    return RevocationHashes(entry.signature_hash, entry.uci_hash, entry.country_uci_hash)


def test_batches_are_per_kid_and_hash_type_and_cut_at_1000() -> None:
    entries = [entry(i) for i in range(2500)] + [entry(10_000 + i, KID_B) for i in range(3)]
    document = build_document(reversed(entries), country="LU")
    assert document["country"] == "LU"
    shape = [(b["kid"], b["hashType"], len(b["entries"])) for b in document["batches"]]
    assert shape == [
        *((KID_A, t, n) for t in HASH_TYPES for n in (1000, 1000, 500)),
        *((KID_B, t, 3) for t in HASH_TYPES),
    ]
    assert all(len(b["entries"]) <= MAX_BATCH_ENTRIES for b in document["batches"])
    first = document["batches"][0]
    assert first["expires"] == "2023-11-14T22:29:59Z"  # 1_700_000_000 + 999, the latest exp
    assert first["country"] == "LU"
    assert len({b["batchId"] for b in document["batches"]}) == len(document["batches"])
    assert build_document(entries, country="LU") == document  # deterministic


def test_a_list_reads_its_own_document_and_matches_each_hash_type() -> None:
    revoked, kept = entry(1), entry(2)
    revocations = RevocationList.from_documents([build_document([revoked], country="LU")])
    assert (len(revocations), revocations.batches) == (3, 3)
    assert revocations.match(KID_A, hashes_of(revoked)) == "SIGNATURE"
    assert revocations.match(KID_A, hashes_of(revoked), types=("UCI",)) == "UCI"
    assert (
        revocations.match(KID_A, hashes_of(revoked), types=("COUNTRYCODEUCI",)) == "COUNTRYCODEUCI"
    )
    assert revocations.match(KID_A, hashes_of(kept)) is None
    assert (
        revocations.match(KID_B, hashes_of(revoked)) is None
    )  # batches hold one kid's certificates


def test_an_imported_batch_alone_or_with_unknown_kid_is_read() -> None:
    revoked = entry(7)
    batch: dict[str, Any] = {
        "country": "DE",
        "expires": "2030-01-01T00:00:00Z",
        "kid": UNKNOWN_KID,
        "hashType": "UCI",
        "entries": [{"hash": revoked.uci_hash}],
    }
    revocations = RevocationList.from_documents([batch, [batch]])
    assert revocations.match(KID_B, hashes_of(revoked)) == "UCI"


@pytest.mark.parametrize(
    "document",
    [
        {"batches": "nope"},
        42,
        [{"kid": KID_A, "hashType": "NAME", "entries": []}],
        [{"kid": "", "hashType": "UCI", "entries": []}],
        [{"kid": KID_A, "hashType": "UCI", "entries": {}}],
        [{"kid": KID_A, "hashType": "UCI", "entries": [{"hash": "short"}]}],
        [{"kid": KID_A, "hashType": "UCI", "entries": [{"hash": "!" * 24}]}],
        [
            {
                "kid": KID_A,
                "hashType": "UCI",
                "entries": [{"hash": base64.b64encode(b"x" * 17).decode()}],
            }
        ],
    ],
)
def test_a_malformed_list_is_refused(document: object) -> None:
    with pytest.raises(DccError) as caught:
        RevocationList.from_documents([document])
    assert caught.value.code == "revocation_list_invalid"
