"""Builds the runtime objects from settings: keys → signer pool → issuer.

Shared by the CLI (``dcc issue``) and the app's lifespan, so both refuse bad keys or value
sets with the same single message.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from api.settings import Settings
from issuer.issuer import Issuer
from issuer.valuesets import DeviceRegistry
from keys.eku import CertType
from keys.load import SigningKeys, load_signing_keys
from signing.pool import SignerPool, WaitObserver
from signing.signer import LocalSigner

TEST_ONLY: Final[tuple[CertType, ...]] = ("test",)

__all__ = ["IssuingRuntime", "build_issuing_runtime", "load_devices"]


@dataclass(frozen=True)
class IssuingRuntime:
    """What issuing needs at run time: the loaded keys, the signer pool and the issuer."""

    keys: SigningKeys
    pool: SignerPool
    issuer: Issuer


def load_devices(settings: Settings) -> DeviceRegistry:
    """The RAT device list from ``DCC_VALUESETS_FILE``, or the id-format check alone."""
    if settings.valuesets_file is None:
        return DeviceRegistry.format_only()
    return DeviceRegistry.from_file(settings.valuesets_file)


def build_issuing_runtime(
    settings: Settings,
    *,
    clock: Callable[[], datetime] | None = None,
    observer: WaitObserver | None = None,
) -> IssuingRuntime:
    """Load and check the keys, then build the pool and the issuer (raises DccError)."""
    now = clock or (lambda: datetime.now(UTC))
    keys = load_signing_keys(
        settings.keys_dir,
        passphrase=settings.key_passphrase,
        now=now(),
        required_cert_types=TEST_ONLY,
    )
    signers = [LocalSigner(keys.private_key, keys.kid) for _ in range(settings.signer_slots)]
    pool = SignerPool(signers, acquire_timeout=settings.signer_timeout, observer=observer)
    issuer = Issuer(
        settings.issuer_config(),
        pool=pool,
        devices=load_devices(settings),
        not_after=keys.not_after,
        clock=now,
    )
    return IssuingRuntime(keys=keys, pool=pool, issuer=issuer)
