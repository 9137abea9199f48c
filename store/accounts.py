"""Accounts and their API keys in the store: add, list, disable, remove, rotate a key, quotas.

An API key looks like ``dcc_<key id>_<secret>``: the key id (16 hex digits) finds the key
without a scan, the secret is ``secrets.token_urlsafe(32)`` (256 random bits). Only the
SHA-256 of the whole key is stored. Why not scrypt/argon2: slow hashes make guessing
low-entropy *passwords* expensive after a leak; these keys carry 256 random bits, so no
guessing finds a preimage and a slow hash would only cost every request time.

Every change bumps ``store_state.accounts_version`` in the same transaction, so a replica
learns that something changed by reading one integer (:meth:`Accounts.version`) and then
reloads :meth:`Accounts.snapshot`. Removing an account keeps its row (the register names
it) with status ``removed``; its keys stop working at once.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Literal, get_args

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from signing.errors import DccError
from store.engine import unavailable_on_error
from store.schema import ACCOUNTS, API_KEYS, STORE_STATE

__all__ = [
    "ISSUING_ROLES",
    "KEY_PREFIX",
    "KINDS",
    "ROLES",
    "STATUSES",
    "AccountError",
    "AccountRecord",
    "Accounts",
    "KeyRecord",
    "Kind",
    "NewKey",
    "RateLimit",
    "Role",
    "Status",
    "bump_accounts_version",
    "hash_key",
    "key_id_of",
]

Role = Literal["pharmacist", "lab", "operator"]
ROLES: Final[tuple[Role, ...]] = get_args(Role)
Kind = Literal["pharmacy", "lab", "test_centre"]
KINDS: Final[tuple[Kind, ...]] = get_args(Kind)
"""What an account is: an account IS an organisation, its members log in (store.members)."""
ISSUING_ROLES: Final[tuple[Role, ...]] = ("pharmacist", "lab")
"""Roles that issue certificates; ``operator`` revokes them and issues none."""
Status = Literal["active", "disabled", "removed"]
STATUSES: Final[tuple[Status, ...]] = get_args(Status)
KEY_PREFIX: Final = "dcc_"
MAX_KEY_CHARS: Final = 200
_ID_RE: Final = re.compile(r"[0-9a-f]{16}")
_NAME_RE: Final = re.compile(r"[^\x00-\x1f\x7f]{1,80}")


class AccountError(DccError):
    """An account operation that cannot be done (name taken, no such account)."""

    default_code = "account_error"


@dataclass(frozen=True, slots=True)
class RateLimit:
    """An account's own issuance quota: ``count`` per ``period`` seconds, ``burst`` at once."""

    count: int
    period: int
    burst: int


@dataclass(frozen=True, slots=True)
class KeyRecord:
    """One API key of an account (its hash); ``expires_at`` is set once it was rotated out."""

    id: str
    key_hash: str
    created_at: int
    expires_at: int | None

    def valid_at(self, now: int) -> bool:
        return self.expires_at is None or now < self.expires_at


@dataclass(frozen=True, slots=True)
class AccountRecord:
    """One account as stored, with its keys (newest first)."""

    id: str
    name: str
    role: Role
    status: Status
    rate: RateLimit | None
    created_at: int
    updated_at: int
    keys: tuple[KeyRecord, ...] = ()
    kind: Kind = "pharmacy"
    scope: str | None = None


@dataclass(frozen=True, slots=True)
class NewKey:
    """A key just made for ``account``: the only moment the key exists in clear."""

    account: AccountRecord
    api_key: str


def hash_key(api_key: str) -> str:
    """The hex SHA-256 of an API key (see the module docstring for why SHA-256 suffices)."""
    return hashlib.sha256(api_key.encode("utf-8")).hexdigest()


def key_id_of(api_key: str) -> str | None:
    """The key id embedded in ``api_key``, or None when it is not shaped like our keys."""
    if len(api_key) > MAX_KEY_CHARS or not api_key.startswith(KEY_PREFIX):
        return None
    key_id, sep, secret = api_key[len(KEY_PREFIX) :].partition("_")
    if not sep or not secret or not _ID_RE.fullmatch(key_id):
        return None
    return key_id


def _mint() -> tuple[str, str]:
    key_id = secrets.token_hex(8)
    return key_id, f"{KEY_PREFIX}{key_id}_{secrets.token_urlsafe(32)}"


def _not_found(account_id: str) -> AccountError:
    return AccountError(f"no account with id {account_id!r}", code="account_not_found")


class Accounts:
    """The accounts of a deployment, in the store (every method is one transaction)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def version(self) -> int:
        """Grows with every change to an account or a key."""
        query = select(STORE_STATE.c.accounts_version).where(STORE_STATE.c.id == 1)
        async with unavailable_on_error("accounts version"), self._engine.connect() as conn:
            return int((await conn.execute(query)).scalar_one())

    async def snapshot(self) -> tuple[int, list[AccountRecord]]:
        """The version and every account not removed, with its keys, read consistently."""
        async with unavailable_on_error("accounts read"), self._engine.begin() as conn:
            version = select(STORE_STATE.c.accounts_version).where(STORE_STATE.c.id == 1)
            current = int((await conn.execute(version)).scalar_one())
            accounts = await _read(conn, ACCOUNTS.c.status != "removed")
        return current, accounts

    async def list(self, *, include_removed: bool = False) -> list[AccountRecord]:
        """Every account (oldest first), the removed ones too when asked."""
        where = None if include_removed else ACCOUNTS.c.status != "removed"
        async with unavailable_on_error("accounts read"), self._engine.connect() as conn:
            return await _read(conn, where)

    async def get(self, account_id: str) -> AccountRecord:
        """The account ``account_id`` (raise ``account_not_found``)."""
        async with unavailable_on_error("accounts read"), self._engine.connect() as conn:
            found = await _read(conn, ACCOUNTS.c.id == account_id)
        if not found:
            raise _not_found(account_id)
        return found[0]

    async def by_name(self, name: str) -> AccountRecord | None:
        """The account called ``name``, if any (names are unique)."""
        async with unavailable_on_error("accounts read"), self._engine.connect() as conn:
            found = await _read(conn, ACCOUNTS.c.name == name)
        return found[0] if found else None

    async def add(
        self, *, name: str, role: str, rate: RateLimit | None, now: int, kind: str | None = None
    ) -> NewKey:
        """Create an account (an organisation of ``kind``, by default the role's) and its
        first key (printed once by the caller)."""
        account_id, api_key = _mint()
        record = await self._insert(account_id, name, role, rate, now, hash_key(api_key), kind)
        return NewKey(record, api_key)

    async def import_account(
        self,
        *,
        account_id: str,
        name: str,
        role: str,
        rate: RateLimit | None,
        created_at: int,
        key_hash: str,
    ) -> AccountRecord:
        """Bring in an account of the old accounts file: same id, same key (its hash)."""
        if not _ID_RE.fullmatch(account_id) or not re.fullmatch(r"[0-9a-f]{64}", key_hash):
            raise AccountError(
                "an imported account needs its id and key hash", code="account_invalid"
            )
        return await self._insert(account_id, name, role, rate, created_at, key_hash)

    async def _insert(
        self,
        account_id: str,
        name: str,
        role: str,
        rate: RateLimit | None,
        now: int,
        key_hash: str,
        kind: str | None = None,
    ) -> AccountRecord:
        if role not in ROLES:
            raise AccountError(f"role must be one of {', '.join(ROLES)}", code="role_invalid")
        kind = kind or _default_kind(role)
        if kind not in KINDS:
            raise AccountError(f"kind must be one of {', '.join(KINDS)}", code="kind_invalid")
        if not _NAME_RE.fullmatch(name) or name != name.strip():
            raise AccountError(
                "name must be 1 to 80 printable characters without surrounding spaces",
                code="account_name_invalid",
            )
        values = {"id": account_id, "name": name, "role": role, "status": "active", "kind": kind}
        try:
            async with unavailable_on_error("account add"), self._engine.begin() as conn:
                await conn.execute(
                    ACCOUNTS.insert().values(
                        **values, **_rate_columns(rate), created_at=now, updated_at=now
                    )
                )
                await conn.execute(
                    API_KEYS.insert().values(
                        id=account_id,
                        account_id=account_id,
                        key_hash=key_hash,
                        created_at=now,
                    )
                )
                await _bump(conn)
                created = (await _read(conn, ACCOUNTS.c.id == account_id))[0]
        except IntegrityError as exc:
            raise AccountError(
                f"an account named {name!r} (or with id {account_id}) exists already",
                code="account_exists",
            ) from exc
        return created

    async def set_rate(self, account_id: str, rate: RateLimit | None, *, now: int) -> AccountRecord:
        """Give the account its own issuance quota, or its role's again with None."""
        return await self._change(account_id, now, _rate_columns(rate))

    async def set_scope(self, account_id: str, scope: str | None, *, now: int) -> AccountRecord:
        """Bind the account to a key scope (it signs with that scope's active DSC), or to the
        default DSC again with None. The scope name is checked by the caller."""
        return await self._change(account_id, now, {"scope": scope})

    async def set_status(self, account_id: str, status: Status, *, now: int) -> AccountRecord:
        """Enable, disable or remove the account (its keys stop working unless active)."""
        if status not in STATUSES:
            raise AccountError(
                f"status must be one of {', '.join(STATUSES)}", code="status_invalid"
            )
        return await self._change(account_id, now, {"status": status})

    async def rotate_key(self, account_id: str, *, now: int, grace: int) -> NewKey:
        """A new key for the account; its other keys stop working ``grace`` seconds from now."""
        key_id, api_key = _mint()
        async with unavailable_on_error("key rotation"), self._engine.begin() as conn:
            account = await _read(conn, ACCOUNTS.c.id == account_id)
            if not account or account[0].status == "removed":
                raise _not_found(account_id)
            ends = now + max(0, grace)
            await conn.execute(
                update(API_KEYS)
                .where(API_KEYS.c.account_id == account_id)
                .where((API_KEYS.c.expires_at.is_(None)) | (API_KEYS.c.expires_at > ends))
                .values(expires_at=ends)
            )
            await conn.execute(
                API_KEYS.insert().values(
                    id=key_id, account_id=account_id, key_hash=hash_key(api_key), created_at=now
                )
            )
            await conn.execute(
                update(ACCOUNTS).where(ACCOUNTS.c.id == account_id).values(updated_at=now)
            )
            await _bump(conn)
            changed = (await _read(conn, ACCOUNTS.c.id == account_id))[0]
        return NewKey(changed, api_key)

    async def _change(
        self, account_id: str, now: int, values: Mapping[str, object]
    ) -> AccountRecord:
        async with unavailable_on_error("account change"), self._engine.begin() as conn:
            result = await conn.execute(
                update(ACCOUNTS)
                .where(ACCOUNTS.c.id == account_id)
                .where(ACCOUNTS.c.status != "removed")
                .values(**values, updated_at=now)
            )
            if result.rowcount != 1:
                raise _not_found(account_id)
            await _bump(conn)
            return (await _read(conn, ACCOUNTS.c.id == account_id))[0]


def _default_kind(role: str) -> Kind:
    return "lab" if role == "lab" else "pharmacy"


def _rate_columns(rate: RateLimit | None) -> dict[str, int | None]:
    if rate is None:
        return {"rate_count": None, "rate_period": None, "rate_burst": None}
    return {"rate_count": rate.count, "rate_period": rate.period, "rate_burst": rate.burst}


async def _bump(conn: AsyncConnection) -> None:
    await conn.execute(
        update(STORE_STATE)
        .where(STORE_STATE.c.id == 1)
        .values(accounts_version=STORE_STATE.c.accounts_version + 1)
    )


bump_accounts_version: Final = _bump
"""Bump the version replicas poll (members change it too: their logins end within a second)."""


async def _read(conn: AsyncConnection, where: object) -> list[AccountRecord]:
    query = select(ACCOUNTS).order_by(ACCOUNTS.c.created_at, ACCOUNTS.c.id)
    if where is not None:
        query = query.where(where)  # type: ignore[arg-type]
    rows = (await conn.execute(query)).all()
    if not rows:
        return []
    ids = [row.id for row in rows]
    keys: dict[str, list[KeyRecord]] = {account_id: [] for account_id in ids}
    key_query = (
        select(API_KEYS)
        .where(API_KEYS.c.account_id.in_(ids))
        .order_by(API_KEYS.c.created_at.desc(), func.coalesce(API_KEYS.c.expires_at, 2**62).desc())
    )
    for key in (await conn.execute(key_query)).all():
        keys[key.account_id].append(KeyRecord(key.id, key.key_hash, key.created_at, key.expires_at))
    return [
        AccountRecord(
            id=row.id,
            name=row.name,
            role=row.role,
            status=row.status,
            rate=RateLimit(row.rate_count, row.rate_period, row.rate_burst)
            if row.rate_count is not None
            else None,
            created_at=row.created_at,
            updated_at=row.updated_at,
            keys=tuple(keys[row.id]),
            kind=row.kind or _default_kind(row.role),
            scope=row.scope,
        )
        for row in rows
    ]
