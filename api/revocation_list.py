"""The published revocation list, built from the store and cached until it changes.

:class:`RevocationListCache` serves ``GET /v1/revocation-list`` and the service's own
verifier. It rebuilds the list only when the store's revocation version changed (read at
most every :data:`CHECK_SECONDS`, so a revocation on another replica shows within a second;
a revocation through this replica calls :meth:`RevocationListCache.invalidate`) or when the
earliest entry expired (expired certificates drop out). The body is deterministic, so its
ETag (SHA-256 of the bytes) is the same on every replica. Building runs in a worker thread:
for 100,000 revoked certificates it takes about a second (BENCHMARKS.md). When the database
does not answer, the last list built keeps being used (a warning is logged): verification
does not stop because the store is down; before any list was built it is 503.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import gzip
import hashlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

import anyio.to_thread
import orjson

from hcert.revocation_list import RevocationList, build_document
from store.errors import StoreUnavailable
from store.revocations import ListRow, Revocations, RevokedKey

__all__ = ["CHECK_SECONDS", "PublishedList", "RevocationListCache", "build_published"]

CHECK_SECONDS: Final = 1.0
_LOGGER = logging.getLogger("dcc.api")


@dataclass(frozen=True, slots=True)
class PublishedList:
    """One build of the list: its JSON body and ETag, and the lookup the verifier uses."""

    version: int
    body: bytes
    etag: str
    gzip_body: bytes
    """The same body gzip-compressed (level 6), for clients that accept it."""
    lookup: RevocationList
    certificates: int
    batches: int
    valid_until: int | None
    """When the earliest certificate on the list expires (then the list is rebuilt)."""
    revoked_keys: tuple[RevokedKey, ...] = ()
    """The revoked DSCs as of this build (a key revocation bumps the version too)."""
    by_reason: tuple[tuple[str, int], ...] = ()
    """Revoked certificates in the store by reason (expired ones too), as of this build."""

    def distrusted_kids(self, now: int) -> frozenset[str]:
        """The kids (base64) trust lists and trust stores must leave out at ``now``: the
        hook for the key lifecycle (trust list of several DSCs, rotation)."""
        return frozenset(key.kid for key in self.revoked_keys if key.distrust_at <= now)


def build_published(
    version: int,
    entries: Sequence[ListRow],
    *,
    country: str,
    imported: RevocationList | None,
    revoked_keys: tuple[RevokedKey, ...] = (),
) -> PublishedList:
    """The list of ``entries`` (CPU work: run it in a thread for large lists)."""
    document = build_document(entries, country=country)
    body = orjson.dumps(document)
    digest = base64.urlsafe_b64encode(hashlib.sha256(body).digest()[:18]).decode("ascii")
    lookup = RevocationList.from_entries(entries)
    if imported is not None:
        lookup.extend(imported)
    return PublishedList(
        version=version,
        body=body,
        etag=f'"{digest}"',
        gzip_body=gzip.compress(body, 6, mtime=0),
        lookup=lookup,
        certificates=len(entries),
        batches=len(document["batches"]),
        valid_until=min((entry.expires_at for entry in entries), default=None),
        revoked_keys=revoked_keys,
    )


class RevocationListCache:
    """The current :class:`PublishedList`, rebuilt only when revocations changed."""

    def __init__(
        self,
        revocations: Revocations,
        *,
        country: str,
        clock: Callable[[], datetime],
        imported: RevocationList | None = None,
        on_build: Callable[[PublishedList], None] | None = None,
        check_seconds: float = CHECK_SECONDS,
    ) -> None:
        self._revocations = revocations
        self._country = country
        self._clock = clock
        self._imported = imported
        self._on_build = on_build
        self._check_seconds = check_seconds
        self._current: PublishedList | None = None
        self._checked = float("-inf")
        self._lock = asyncio.Lock()
        self.builds = 0

    def invalidate(self) -> None:
        """Read the version again on the next use (after a revocation through this replica)."""
        self._checked = float("-inf")

    def _fresh(self, current: PublishedList | None, now: int) -> bool:
        return current is not None and (current.valid_until is None or now < current.valid_until)

    async def current(self) -> PublishedList:
        """The list as of now (reads one integer from the store at most once a second)."""
        now = int(self._clock().timestamp())
        current = self._current
        if self._fresh(current, now) and time.monotonic() - self._checked < self._check_seconds:
            assert current is not None
            return current
        async with self._lock:
            current = self._current
            try:
                version = await self._revocations.version()
            except StoreUnavailable as error:
                if current is None:
                    raise
                _LOGGER.warning("revocation list not refreshed (serving the last one): %s", error)
                return current
            self._checked = time.monotonic()
            if self._fresh(current, now) and current is not None and current.version == version:
                return current
            version, entries = await self._revocations.listing(now=now)
            keys = tuple(await self._revocations.revoked_keys())
            counts = tuple(sorted((await self._revocations.counts_by_reason()).items()))
            built = await anyio.to_thread.run_sync(self._build, version, entries, keys)
            built = dataclasses.replace(built, by_reason=counts)
            self._current = built
            self.builds += 1
            if self._on_build is not None:
                self._on_build(built)
            return built

    def _build(
        self, version: int, entries: Sequence[ListRow], keys: tuple[RevokedKey, ...]
    ) -> PublishedList:
        return build_published(
            version, entries, country=self._country, imported=self._imported, revoked_keys=keys
        )
