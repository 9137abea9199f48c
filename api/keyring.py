"""The key ring in the service: build it from settings, make the issuer and trust follow it.

:func:`open_keyring` builds the :class:`~keys.ring.KeyRing` of ``DCC_KEYS_DIR`` (file keys in
``LocalSigner`` pools of ``DCC_SIGNER_SLOTS``; every DSC must be for ``DCC_COUNTRY``);
:func:`follow_active_key` points the issuer at the default scope's active DSC;
:func:`keep_keys_fresh` is the lifespan task that re-reads the manifest every second and
wakes at each foreseen transition, so a rotation reaches every replica without a restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Final

import anyio.to_thread

from api.settings import Settings
from issuer.issuer import Issuer
from keys.eku import CertType
from keys.load import SigningKeys, load_signing_keys
from keys.manifest import DscRecord
from keys.ring import KeyRing
from signing.errors import ConfigError, DccError, SignerUnavailable
from signing.pkcs11 import Pkcs11Signer, Pkcs11Token, read_pin
from signing.pool import SignerPool, WaitObserver
from signing.signer import LocalSigner, Signer
from store import Store
from store.errors import StoreUnavailable

__all__ = [
    "KEYRING_REFRESH_SECONDS",
    "NoKeySigner",
    "follow_active_key",
    "keep_keys_fresh",
    "open_keyring",
    "open_token",
    "track_last_expiry",
]

KEYRING_REFRESH_SECONDS: Final = 1.0
"""How often a replica re-reads the key manifest (a rotation reaches it within this)."""

TEST_ONLY: Final[tuple[CertType, ...]] = ("test",)
_LOGGER = logging.getLogger("dcc.keys")


class NoKeySigner:
    """The signer of a scope without an active DSC: every signature is a 503."""

    alg = -7
    kid = b"\x00" * 8

    def sign(self, data: bytes) -> bytes:
        raise SignerUnavailable(
            "no active signing key (DSC): the operator must rotate in a new one",
            code="signing_key_unavailable",
            retry_after=60.0,
        )


def open_keyring(
    settings: Settings, *, clock: Callable[[], datetime], observer: WaitObserver | None = None
) -> KeyRing:
    """The key ring of ``settings.keys_dir`` (raises DccError: unusable keys, no active key)."""

    tokens: list[Pkcs11Token] = []

    def load_keys(record: DscRecord) -> SigningKeys:
        return load_signing_keys(
            settings.keys_dir,
            passphrase=settings.key_passphrase,
            now=clock(),
            required_cert_types=TEST_ONLY,
            cert_file=record.cert_file,
            key_file=record.key_file,
        )

    def make_pool(record: DscRecord, keys: SigningKeys) -> SignerPool:
        if keys.country != settings.country:
            raise ConfigError(
                f"DCC_COUNTRY is {settings.country} but the signing certificate (DSC) in "
                f"{settings.keys_dir} is for {keys.country}: set DCC_COUNTRY={keys.country} "
                f"or create keys with `dcc keys init --country {settings.country}`",
                code="country_mismatch",
            )
        signers: list[Signer]
        if keys.private_key is not None:
            key = keys.private_key
            signers = [LocalSigner(key, keys.kid) for _ in range(settings.signer_slots)]
        else:
            if not tokens:
                tokens.append(open_token(settings))
            label = record.token_key_label or ""
            signers = []
            for _ in range(settings.signer_slots):  # one session per pool slot
                signer = Pkcs11Signer(tokens[0], label, keys.kid, keys.alg)
                signer.connect()
                signers.append(signer)
        return SignerPool(signers, acquire_timeout=settings.signer_timeout, observer=observer)

    validity = max(settings.validity_rat, settings.validity_naat)
    return KeyRing(
        settings.keys_dir,
        make_pool=make_pool,
        load_keys=load_keys,
        passphrase=settings.key_passphrase,
        max_validity_seconds=int(validity.total_seconds()),
        clock=clock,
        required_cert_types=TEST_ONLY,
    )


def open_token(settings: Settings) -> Pkcs11Token:
    """The PKCS#11 token of the settings (DCC_PKCS11_MODULE, _TOKEN, _PIN or _PIN_FILE)."""
    if settings.pkcs11_module is None:
        raise ConfigError(
            "a DSC of the keys directory lives in a PKCS#11 token: set DCC_PKCS11_MODULE "
            "(and DCC_PKCS11_TOKEN, DCC_PKCS11_PIN or DCC_PKCS11_PIN_FILE)",
            code="pkcs11_not_configured",
        )
    pin = read_pin(settings.pkcs11_pin, settings.pkcs11_pin_file)
    return Pkcs11Token(settings.pkcs11_module, settings.pkcs11_token, pin)


def follow_active_key(issuer: Issuer, ring: KeyRing, scope: str | None = None) -> None:
    """Point ``issuer`` at ``scope``'s active DSC (a 503 signer when there is none)."""
    active = ring.active(scope)
    if active is None:
        if issuer.pool.kid != NoKeySigner.kid:
            issuer.pool = SignerPool([NoKeySigner()])
        return
    if issuer.pool is not active.pool:
        issuer.pool = active.pool
        issuer.not_after = active.keys.not_after


async def keep_keys_fresh(ring: KeyRing) -> None:
    """Refresh ``ring`` every second and at each foreseen transition (a lifespan task)."""
    reported: set[str] = set()
    while True:
        delay = ring.seconds_to_next_change()
        await asyncio.sleep(max(0.001, min(KEYRING_REFRESH_SECONDS, delay or 1e9)))
        try:
            if await anyio.to_thread.run_sync(ring.refresh):
                states = ", ".join(f"{s.record.kid} {s.state}" for s in ring.statuses)
                _LOGGER.info("signing keys changed: %s", states)
        except DccError as error:
            _LOGGER.error("signing keys not refreshed: %s", error)
        failed = {f"{kid}: {error}" for kid, error in ring.load_errors.items()}
        for line in sorted(failed - reported):
            _LOGGER.error(
                "a DSC that should sign cannot be loaded (retried every second): %s", line
            )
        reported = failed


LAST_EXPIRY_SECONDS: Final = 60.0
"""How often a replica reads the register's last certificate expiry per kid."""


async def track_last_expiry(store: Store, ring: KeyRing) -> None:
    """Feed the register's last expiry per kid to ``ring`` every minute (a lifespan task)."""
    while True:
        query = asyncio.ensure_future(store.register.last_expiry_by_kid())
        try:
            ring.set_last_expiry(await asyncio.shield(query))
        except asyncio.CancelledError:
            # Shutting down: let the read end before the store closes under it.
            with contextlib.suppress(Exception):
                await query
            raise
        except StoreUnavailable as error:
            _LOGGER.warning("last certificate expiries not read: %s", error)
        await asyncio.sleep(LAST_EXPIRY_SECONDS)
