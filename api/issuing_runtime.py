"""What issuing needs at run time, for the app and the CLI alike: keys → signer pools → issuer.

:func:`build_issuing_runtime` is shared by ``dcc issue``, ``dcc serve`` (which checks the
keys before it starts a server) and the app's lifespan (:func:`api.runtime.open_resources`),
so all of them refuse bad keys or value sets with the same single message.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from api.keyring import follow_active_key, open_keyring
from api.settings import Settings
from hcert.valuesets import DeviceRegistry
from issuer.issuer import Issuer
from keys.load import SigningKeys
from keys.ring import KeyRing
from signing.pool import SignerPool, WaitObserver

__all__ = ["IssuingRuntime", "build_issuing_runtime", "load_devices"]


@dataclass(frozen=True)
class IssuingRuntime:
    """What issuing needs at run time: the key ring (active keys, pools) and the issuer."""

    keyring: KeyRing
    issuer: Issuer
    scoped: dict[str, Issuer] = field(default_factory=dict)

    def issuer_for(self, scope: str | None) -> Issuer:
        """The issuer of ``scope``'s accounts: it signs with the scope's active DSC (a 503
        for every certificate while the scope has none); None is the default scope."""
        if scope is None:
            return self.issuer
        issuer = self.scoped.get(scope)
        if issuer is None:
            base = self.issuer
            issuer = Issuer(
                base.config,
                pool=base.pool,
                devices=base.devices,
                not_after=base.not_after,
                clock=base.clock,
            )
            follow_active_key(issuer, self.keyring, scope)
            self.keyring.add_listener(lambda ring: follow_active_key(issuer, ring, scope))
            self.scoped[scope] = issuer
        return issuer

    @property
    def keys(self) -> SigningKeys:
        """The active DSC of the default scope (its certificate, kid, validity)."""
        return self.keyring.default().keys

    @property
    def pool(self) -> SignerPool:
        """The signer pool of the default scope's active DSC."""
        return self.keyring.default().pool


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
    """Load and check the keys, then build the pools and the issuer (raises DccError).

    The issuer signs with the default scope's active DSC; when the key ring switches
    keys (:meth:`KeyRing.refresh`), the issuer follows.
    """
    now = clock or (lambda: datetime.now(UTC))
    keyring = open_keyring(settings, clock=now, observer=observer)
    active = keyring.default()
    issuer = Issuer(
        settings.issuer_config(),
        pool=active.pool,
        devices=load_devices(settings),
        not_after=active.keys.not_after,
        clock=now,
    )
    keyring.add_listener(lambda ring: follow_active_key(issuer, ring))
    return IssuingRuntime(keyring=keyring, issuer=issuer)
