"""A revoked DSC of this deployment stops signing: the leak case of ``POST
/v1/revocations/key`` and ``dcc revoke key`` reaches the key lifecycle.

The store records the revocation (its certificates revoked, trust lists of verifiers drop
the kid from ``distrust_at``); when the kid is one of the DSCs of the keys folder, its
manifest entry is revoked too (:func:`keys.lifecycle.revoke_listed_dsc`), so every replica
stops signing with it within a second and leaves it out of ``/v1/trust-list`` from
``distrust_at``. With no other active DSC, issuing answers 503 until one is rotated in.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from keys.lifecycle import revoke_listed_dsc

__all__ = ["retire_own_key"]

_LOGGER: Final = logging.getLogger("dcc.keys")


def retire_own_key(keys_dir: Path, kid: str, distrust_at: int | None) -> bool:
    """Revoke ``kid`` in the keys folder when it is ours; whether it was (file I/O: call it
    in a thread from the event loop)."""
    remove_at = None if distrust_at is None else datetime.fromtimestamp(distrust_at, UTC)
    record = revoke_listed_dsc(keys_dir, kid, remove_at=remove_at)
    if record is None:
        return False
    _LOGGER.warning(
        "the revoked DSC %s is one of this deployment's: it no longer signs (rotate in a new "
        "one with `dcc keys rotate` if it was the active key)",
        kid,
    )
    return True
