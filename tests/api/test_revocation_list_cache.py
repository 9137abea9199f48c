"""The revocation list cache: rebuilt only when the version changes or an entry expires,
and the last list kept while the store does not answer (a fake store: our own seam)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest

from api.revocation_list import RevocationListCache
from store.errors import StoreUnavailable
from store.revocations import ListEntry, RevokedKey

ENTRY = ListEntry("AAECAwQFBgc=", 2000, "A" * 22 + "==", "B" * 22 + "==", "C" * 22 + "==")


@dataclass
class FakeRevocations:
    version_now: int = 1
    entries: list[ListEntry] = field(default_factory=lambda: [ENTRY])
    down: bool = False
    listings: int = 0

    async def version(self) -> int:
        if self.down:
            raise StoreUnavailable("the database is unavailable (test)")
        return self.version_now

    async def revoked_keys(self) -> list[RevokedKey]:
        return [RevokedKey("CAkKCwwNDg8=", "key_compromise", "op", 900, 1500)]

    async def counts_by_reason(self) -> dict[str, int]:
        return {"fraud": len(self.entries)}

    async def listing(self, *, now: int) -> tuple[int, list[ListEntry]]:
        self.listings += 1
        return self.version_now, [entry for entry in self.entries if entry.expires_at > now]


async def test_rebuilt_on_a_new_version_or_an_expiry_and_kept_through_an_outage() -> None:
    fake = FakeRevocations()
    clock = [datetime.fromtimestamp(1000, UTC)]
    cache = RevocationListCache(
        fake,  # type: ignore[arg-type]
        country="LU",
        clock=lambda: clock[0],
        check_seconds=0.0,
    )
    first = await cache.current()
    assert (first.certificates, first.valid_until, cache.builds) == (1, 2000, 1)
    assert await cache.current() is first  # same version: no rebuild
    assert first.distrusted_kids(1499) == frozenset()
    assert first.distrusted_kids(1500) == {"CAkKCwwNDg8="}
    fake.version_now = 2
    second = await cache.current()
    assert cache.builds == 2
    assert second.etag == first.etag  # same content, same ETag
    clock[0] = datetime.fromtimestamp(2000, UTC)
    expired = await cache.current()
    assert (expired.certificates, cache.builds) == (0, 3)
    fake.down = True
    assert await cache.current() is expired


async def test_an_outage_before_the_first_build_is_an_error() -> None:
    fake = FakeRevocations(down=True)
    cache = RevocationListCache(
        fake,  # type: ignore[arg-type]
        country="LU",
        clock=lambda: datetime.now(UTC),
    )
    with pytest.raises(StoreUnavailable):
        await cache.current()
