"""The register's last certificate expiry per kid (what keeps a retiring DSC published)."""

from __future__ import annotations

import dataclasses

from store import Store
from tests.store.test_register import row


async def test_last_expiry_by_kid(store: Store) -> None:
    assert await store.register.last_expiry_by_kid() == {}
    first, second = row(1), dataclasses.replace(row(2), expires_at=1_700_000_000)
    other = dataclasses.replace(row(3), kid="BBECAwQFBgc=", expires_at=1_600_000_000)
    await store.register.record([first, second, other])
    assert await store.register.last_expiry_by_kid() == {
        "AAECAwQFBgc=": 1_700_000_000,
        "BBECAwQFBgc=": 1_600_000_000,
    }
