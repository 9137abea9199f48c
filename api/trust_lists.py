"""The imported trust lists (``DCC_TRUST_LISTS``), reloaded without a restart.

The service trusts two separate sources, combined for each verification: its **own** keys
(``Resources.trust``, built by the runtime) and the lists imported from outside, held here.
Every :attr:`ImportedTrustLists.refresh_seconds` a background task stats the configured
files and folders; a new, changed or removed file is read again (in a worker thread) and the
combined store is swapped in one assignment, so a request sees the old lists or the new
ones, never half. A file that became unreadable or whose signature no longer verifies is
logged and its last good version kept; at start-up such a file is an error.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import anyio.to_thread
from cryptography.hazmat.primitives.asymmetric import ec

from api.settings import Settings
from signing.errors import KeyMaterialError
from verifier import TrustStore
from verifier.trust import TrustListInfo
from verifier.trust_lists import load_signer_keys, read_trust_list_file, trust_list_files

__all__ = ["ImportedTrustLists"]

_LOGGER: Final = logging.getLogger(__name__)

_Stamp = tuple[int, int]  # (st_mtime_ns, st_size)


@dataclass(frozen=True, slots=True)
class _Loaded:
    stamp: _Stamp
    store: TrustStore


def _stamp(path: Path) -> _Stamp | None:
    try:
        status = path.stat()
    except OSError:
        return None
    return status.st_mtime_ns, status.st_size


class ImportedTrustLists:
    """The lists of ``paths`` (files, or folders whose files are lists), kept current."""

    def __init__(
        self,
        paths: tuple[Path, ...],
        *,
        signer_keys: tuple[ec.EllipticCurvePublicKey, ...] = (),
        refresh_seconds: float = 5.0,
    ) -> None:
        self.paths, self.signer_keys, self.refresh_seconds = paths, signer_keys, refresh_seconds
        self.version = 0
        self._loaded: dict[Path, _Loaded] = {}
        self._failed: dict[Path, _Stamp] = {}
        self._store = TrustStore(())
        self._with_own: tuple[TrustStore, int, TrustStore] | None = None

    @classmethod
    def open(cls, settings: Settings) -> ImportedTrustLists:
        """Read the settings' lists now (raises :class:`KeyMaterialError` for a bad one)."""
        lists = cls(
            settings.trust_lists,
            signer_keys=load_signer_keys(settings.trust_list_keys),
            refresh_seconds=settings.trust_lists_refresh,
        )
        lists.refresh(strict=True)
        return lists

    @property
    def store(self) -> TrustStore:
        """Every imported DSC (no own key)."""
        return self._store

    @property
    def sources(self) -> tuple[TrustListInfo, ...]:
        """The loaded lists, in file order."""
        return self._store.sources

    def with_own(self, own: TrustStore) -> TrustStore:
        """``own`` combined with the imported lists (own keys first), rebuilt only when
        either changed."""
        cached = self._with_own
        if cached is not None and cached[0] is own and cached[1] == self.version:
            return cached[2]
        version = self.version
        combined = TrustStore.combined([own, self._store]) if len(self._store) else own
        self._with_own = (own, version, combined)
        return combined

    def refresh(self, *, strict: bool = False) -> bool:
        """Read again what changed on disk; True when the lists changed.

        With ``strict`` a list that cannot be read raises; otherwise it is logged and its
        last good version (if any) kept.
        """
        files = trust_list_files(self.paths)
        current = {path: stamp for path in files if (stamp := _stamp(path)) is not None}
        loaded: dict[Path, _Loaded] = {}
        changed = False
        for path, stamp in current.items():
            previous = self._loaded.get(path)
            if (previous is not None and previous.stamp == stamp) or self._failed.get(
                path
            ) == stamp:
                if previous is not None:
                    loaded[path] = previous
                continue
            try:
                store = read_trust_list_file(path, signer_keys=self.signer_keys)
            except KeyMaterialError as error:
                if strict:
                    raise
                _LOGGER.warning("trust list %s not reloaded (%s): %s", path, error.code, error)
                self._failed[path] = stamp
                if previous is not None:
                    loaded[path] = previous
                continue
            self._failed.pop(path, None)
            loaded[path] = _Loaded(stamp, store)
            changed = True
            _LOGGER.info(
                "trust list %s loaded: %d certificates (%s)",
                path.name,
                len(store),
                ", ".join(store.sources[0].countries) if store.sources else "",
            )
        if changed or set(loaded) != set(self._loaded):
            changed = True
            self._loaded = loaded
            self._store = TrustStore.combined(item.store for item in loaded.values())
            self.version += 1
        return changed

    async def keep_fresh(self) -> None:
        """Refresh every :attr:`refresh_seconds` until cancelled (a lifespan task)."""
        while True:
            await asyncio.sleep(self.refresh_seconds)
            await anyio.to_thread.run_sync(self.refresh)
