"""The key ring of a running process: the signing keys it may use and the DSCs it publishes.

:class:`KeyRing` reads the manifest of the keys directory (:mod:`keys.manifest`), computes
every DSC's state (:mod:`keys.lifecycle`), and keeps one signer pool per DSC that signs now
or will (active and pending: a pending key is loaded ahead, so its activation is a pointer
swap). :meth:`KeyRing.refresh` is cheap when nothing changed; the service calls it every
second and at each foreseen transition, so a rotation reaches every replica without a
restart. Listeners hear about every change of the active keys.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509

from keys.eku import CertType
from keys.lifecycle import DscStatus, KeyState, key_states, load_manifest_certificates
from keys.load import SigningKeys, load_signing_keys
from keys.manifest import DscRecord, KeyManifest, read_manifest
from signing.errors import ConfigError, DccError, KeyMaterialError
from signing.pool import SignerPool

__all__ = ["ActiveKey", "KeyRing"]


@dataclass(frozen=True, slots=True)
class ActiveKey:
    """A DSC that signs now: its loaded keys (certificate, kid, validity) and its pool."""

    record: DscRecord
    keys: SigningKeys
    pool: SignerPool


class KeyRing:
    """The keys of one keys directory as one process sees them now."""

    def __init__(
        self,
        directory: Path,
        *,
        make_pool: Callable[[DscRecord, SigningKeys], SignerPool],
        load_keys: Callable[[DscRecord], SigningKeys] | None = None,
        passphrase: bytes | None = None,
        max_validity_seconds: int,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        required_cert_types: Collection[CertType] = (),
    ) -> None:
        self.directory = directory
        self._make_pool = make_pool
        self._load_keys = load_keys or self._load_file_keys
        self._passphrase = passphrase
        self._max_validity = max_validity_seconds
        self._clock = clock
        self._required = tuple(required_cert_types)
        self._lock = threading.Lock()
        self._manifest = KeyManifest(())
        self._certificates: dict[str, x509.Certificate] = {}
        self._loaded: dict[str, ActiveKey] = {}
        self._last_expiry: dict[str, int] = {}
        self._statuses: list[DscStatus] = []
        self._active: dict[str | None, ActiveKey] = {}
        self._listeners: list[Callable[[KeyRing], None]] = []
        self.load_errors: dict[str, DccError] = {}
        """The DSCs that should sign (pending or active) but could not be loaded, by kid."""
        self.refresh(force=True)
        if None not in self._active:
            for status in self._statuses:
                failed = self.load_errors.get(status.record.kid)
                if status.state is KeyState.ACTIVE and status.record.scope is None and failed:
                    raise failed
            raise KeyMaterialError(self._no_active_message(), code="no_active_key")

    def _load_file_keys(self, record: DscRecord) -> SigningKeys:
        if record.key_file is None:
            raise ConfigError(
                f"the DSC {record.kid} is held by a {record.backend} token: configure it "
                "(DCC_PKCS11_MODULE) to sign with it",
                code="pkcs11_not_configured",
            )
        return load_signing_keys(
            self.directory,
            passphrase=self._passphrase,
            now=self._clock(),
            required_cert_types=self._required,
            cert_file=record.cert_file,
            key_file=record.key_file,
        )

    def _no_active_message(self) -> str:
        states = ", ".join(f"{s.record.kid} {s.state}" for s in self._statuses) or "none"
        return (
            f"no active signing key (DSC) in {self.directory} (DSCs: {states}): run "
            f"`dcc keys list --dir {self.directory}`, then `dcc keys rotate` (or wait for a "
            "pending key's activation time) before starting"
        )

    def add_listener(self, listener: Callable[[KeyRing], None], *, first: bool = False) -> None:
        """Call ``listener(ring)`` after every change of the active keys or the published set
        (``first``: before the listeners added so far, e.g. publishing a new DSC before the
        issuers start signing with it)."""
        if first:
            self._listeners.insert(0, listener)
        else:
            self._listeners.append(listener)

    def set_last_expiry(self, last_expiry: Mapping[str, int]) -> None:
        """The register's latest certificate expiry per kid (keeps retiring keys published)."""
        self._last_expiry = dict(last_expiry)

    def refresh(self, *, force: bool = False) -> bool:
        """Re-read the manifest and re-evaluate states; True when what is used changed.

        Keys of new pending/active DSCs are loaded here (outside any request). A DSC that
        cannot be loaded (a wrong passphrase, an absent token) is left out, its error kept in
        :attr:`load_errors` and tried again at the next refresh: if it is the one that should
        be active, its scope has no active key meanwhile (nothing signs with a superseded
        key).
        """
        with self._lock:
            changed = self._refresh(force)
        if changed:
            for listener in self._listeners:
                listener(self)
        return changed

    def _refresh(self, force: bool) -> bool:
        manifest = read_manifest(self.directory)
        if not manifest.dscs:
            load_signing_keys(self.directory)  # raises key_file_missing, with its hint
        if manifest != self._manifest:
            self._certificates = load_manifest_certificates(self.directory, manifest)
            self._manifest = manifest
            force = True
        now = int(self._clock().timestamp())
        statuses = key_states(
            manifest,
            self._certificates,
            now=now,
            max_validity_seconds=self._max_validity,
            last_expiry=self._last_expiry,
        )
        errors: dict[str, DccError] = {}
        for status in statuses:
            kid = status.record.kid
            if status.state in (KeyState.PENDING, KeyState.ACTIVE) and kid not in self._loaded:
                try:
                    keys = self._load_keys(status.record)
                    pool = self._make_pool(status.record, keys)
                except DccError as error:  # this DSC cannot sign here; the others still can
                    errors[kid] = error
                    continue
                self._loaded[kid] = ActiveKey(status.record, keys, pool)
        self.load_errors = errors
        active = {
            status.record.scope: self._loaded[status.record.kid]
            for status in statuses
            if status.state is KeyState.ACTIVE and status.record.kid in self._loaded
        }
        keep = {s.record.kid for s in statuses if s.state in (KeyState.PENDING, KeyState.ACTIVE)}
        self._loaded = {kid: key for kid, key in self._loaded.items() if kid in keep}
        before = [(s.record, s.state, s.published) for s in self._statuses]
        after = [(s.record, s.state, s.published) for s in statuses]
        changed = force or before != after or active.keys() != self._active.keys()
        changed = changed or any(active[s] is not self._active.get(s) for s in active)
        self._statuses = statuses
        self._active = active
        return changed

    def active(self, scope: str | None = None) -> ActiveKey | None:
        """The DSC that signs for ``scope`` now (None: no active key in that scope)."""
        return self._active.get(scope)

    def default(self) -> ActiveKey:
        """The active DSC of the default scope (raises KeyMaterialError ``no_active_key``)."""
        key = self._active.get(None)
        if key is None:
            raise KeyMaterialError(self._no_active_message(), code="no_active_key")
        return key

    @property
    def statuses(self) -> list[DscStatus]:
        """Every DSC of the manifest with its state, as of the last refresh."""
        return list(self._statuses)

    def published(self) -> list[x509.Certificate]:
        """The DSCs of the trust list: every one that may still have valid certificates."""
        return [s.certificate for s in self._statuses if s.published]

    def seconds_to_next_change(self) -> float | None:
        """Seconds until the next foreseen state change (activation, stop, unpublish)."""
        now = self._clock().timestamp()
        moments = [
            moment
            for s in self._statuses
            for moment in (s.record.activates_at, s.stops_signing_at, s.published_until)
            if moment > now
        ]
        return min(moments) - now if moments else None
