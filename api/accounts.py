"""Who is calling: the accounts of the store, held in memory, refreshed within a second.

Authentication must not cost a database round trip per request, and a change made with
``dcc accounts`` (a key rotated, an account disabled or removed, a quota changed) must
reach every replica within a second without a restart. :class:`AccountDirectory` does
both: it answers from memory, and every :data:`REFRESH_SECONDS` it reads the store's
accounts version (one integer) and reloads the accounts when it changed. When the store
does not answer, the directory keeps serving what it last read and reports itself stale
(readiness says so).

A key is found by the id embedded in it (``dcc_<key id>_<secret>``, no scan) and its
SHA-256 compared in constant time; an unknown id is compared against a dummy hash so both
paths cost the same. A key rotated out stops working at its ``expires_at``.

An account IS an organisation; the directory also holds its members (:mod:`store.members`),
by subject and by id, so that a named login (session or access token) is checked against
the current member list on every request: a member removed or disabled stops working
within a refresh. A caller acting as a member is the organisation's :class:`Account` with
``member`` (the subject id) and ``member_role`` set.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Final

from api.ratelimit.rate import Rate
from store.accounts import (
    AccountRecord,
    Accounts,
    Kind,
    RateLimit,
    Role,
    Status,
    hash_key,
    key_id_of,
)
from store.errors import StoreUnavailable
from store.members import MemberRecord, MemberRole, Members

__all__ = [
    "REFRESH_SECONDS",
    "Account",
    "AccountDirectory",
    "account_of",
    "rate_limit_of",
    "rate_text",
]

REFRESH_SECONDS: Final = 0.5
_DUMMY_HASH: Final = hashlib.sha256(b"no such key").hexdigest()
_UNIT_NAMES: Final = {1.0: "second", 60.0: "minute", 3600.0: "hour"}
_LOGGER = logging.getLogger("dcc.api")


@dataclass(frozen=True, slots=True)
class Account:
    """An account (an organisation) as the API sees it; ``rate`` is its own quota (None: its
    role's). ``member``/``member_role``: the member acting for it (None with an API key)."""

    id: str
    name: str
    role: Role
    status: Status
    rate: Rate | None = None
    kind: Kind = "pharmacy"
    member: str | None = None
    member_role: MemberRole | None = None
    scope: str | None = None
    """The key scope it signs in (None: the default DSC), see ``dcc keys rotate --scope``."""


def account_of(record: AccountRecord) -> Account:
    """The API's view of a stored account."""
    limit = record.rate
    rate = None if limit is None else Rate(limit.count, float(limit.period), limit.burst)
    return Account(
        record.id, record.name, record.role, record.status, rate, record.kind, scope=record.scope
    )


def rate_limit_of(rate: Rate | None) -> RateLimit | None:
    """How the store keeps a rate (per second, minute or hour)."""
    if rate is None:
        return None
    return RateLimit(rate.count, round(rate.period_seconds), rate.burst)


def rate_text(rate: Rate) -> str:
    """``"<count>/<unit>"`` as settings spell it, plus ``" (burst <n>)"`` if not the count."""
    text = f"{rate.count}/{_UNIT_NAMES.get(rate.period_seconds, f'{rate.period_seconds:g}s')}"
    return text if rate.burst == rate.count else f"{text} (burst {rate.burst})"


@dataclass(frozen=True, slots=True)
class _Key:
    account: Account
    key_hash: str
    expires_at: int | None


class AccountDirectory:
    """The accounts of the store, in memory; :meth:`refresh` keeps them current."""

    def __init__(
        self,
        accounts: Accounts,
        *,
        members: Members | None = None,
        clock: Callable[[], float] = time.time,
        refresh_seconds: float = REFRESH_SECONDS,
    ) -> None:
        self._accounts = accounts
        self._members = members
        self._members_by_subject: dict[str, MemberRecord] = {}
        self._members_by_id: dict[str, MemberRecord] = {}
        self._clock = clock
        self.refresh_seconds = refresh_seconds
        self._keys: dict[str, _Key] = {}
        self._by_id: dict[str, Account] = {}
        self.version = -1
        self.stale = True

    async def load(self) -> None:
        """Read every account now (raises StoreUnavailable when the store does not answer)."""
        version, records = await self._accounts.snapshot()
        keys: dict[str, _Key] = {}
        by_id: dict[str, Account] = {}
        for record in records:
            account = by_id[record.id] = account_of(record)
            for key in record.keys:
                keys[key.id] = _Key(account, key.key_hash, key.expires_at)
        members = await self._members.list() if self._members is not None else []
        self._members_by_subject = {member.subject: member for member in members}
        self._members_by_id = {member.id: member for member in members}
        self._keys, self._by_id, self.version, self.stale = keys, by_id, version, False

    async def refresh(self) -> bool:
        """Reload when the store's accounts changed; True when something was reloaded."""
        try:
            changed = await self._accounts.version() != self.version
            if changed:
                await self.load()
        except StoreUnavailable as error:
            if not self.stale:
                _LOGGER.warning("accounts not refreshed, serving the last ones read: %s", error)
            self.stale = True
            return False
        self.stale = False
        return changed

    async def keep_fresh(self) -> None:
        """Refresh every :attr:`refresh_seconds` until cancelled (a lifespan task)."""
        while True:
            await asyncio.sleep(self.refresh_seconds)
            await self.refresh()

    def __len__(self) -> int:
        return len(self._by_id)

    def __iter__(self) -> Iterator[Account]:
        return iter(self._by_id.values())

    def get(self, account_id: str) -> Account | None:
        """The account ``account_id``, if the store holds it (not removed)."""
        return self._by_id.get(account_id)

    def member_by_subject(self, subject: str) -> MemberRecord | None:
        """The member known by the provider's ``subject`` (not removed), if any."""
        return self._members_by_subject.get(subject)

    def member_by_id(self, member_id: str) -> MemberRecord | None:
        """The member ``member_id`` (not removed), if any."""
        return self._members_by_id.get(member_id)

    def acting(self, member: MemberRecord) -> Account | None:
        """The organisation of an active ``member``, acting as that member (None when the
        member or the organisation is not active)."""
        account = self._by_id.get(member.account_id)
        if member.status != "active" or account is None or account.status != "active":
            return None
        return replace(account, member=member.subject, member_role=member.role)

    def authenticate(self, api_key: str) -> Account | None:
        """The account ``api_key`` belongs to (disabled ones too: the caller decides)."""
        key_id = key_id_of(api_key)
        entry = self._keys.get(key_id) if key_id is not None else None
        expected = entry.key_hash if entry is not None else _DUMMY_HASH
        if not hmac.compare_digest(hash_key(api_key), expected) or entry is None:
            return None
        if entry.expires_at is not None and self._clock() >= entry.expires_at:
            return None
        return entry.account
