"""What an organisation may see: its own certificates, whoever of its members issued them.

Every caller (API key, access token or session) acts for one organisation (an account);
register rows name the organisation that issued them. A row of another organisation is
answered exactly like a UVCI never issued (404), so its existence does not leak. Revocation
must go through :func:`own_register_row` too.
"""

from __future__ import annotations

from fastapi import HTTPException

from api.accounts import Account
from api.runtime import Resources
from store.register import IssuanceRecord

__all__ = ["own_register_row"]

_MAX_UVCI_CHARS = 80


async def own_register_row(resources: Resources, account: Account, uvci: str) -> IssuanceRecord:
    """The register row of ``uvci`` when ``account`` issued it (404 ``not_found`` otherwise)."""
    record = None
    if len(uvci) <= _MAX_UVCI_CHARS:
        record = await resources.store.register.get(uvci)
    if record is None or record.account_id != account.id:
        raise HTTPException(404)
    return record
