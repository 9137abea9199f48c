"""The members of organisations: the people who log in, by the identity provider's subject.

An account of :mod:`store.accounts` IS an organisation (a pharmacy, a lab, a test centre).
Its members are known by the OpenID provider's ``sub`` (an opaque subject id, never a name),
optionally tied to a professional register number the provider vouches for in a claim.
A member's ``role`` says what they may do (:data:`MEMBER_ROLES`); a ``status`` other than
``active`` ends their logins. Every change bumps the accounts version in the same
transaction, so every replica's directory (and the sessions it checks) sees it within a
second. A subject belongs to one organisation at most (the login needs no choice).
"""

from __future__ import annotations

import builtins
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Literal, get_args

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from store.accounts import AccountError, Status, bump_accounts_version
from store.engine import unavailable_on_error
from store.schema import ACCOUNTS, MEMBERS

__all__ = [
    "ISSUING_ROLES",
    "MEMBER_ROLES",
    "MemberRecord",
    "MemberRole",
    "Members",
]

MemberRole = Literal["issuer", "org_admin", "operator"]
MEMBER_ROLES: Final[tuple[MemberRole, ...]] = get_args(MemberRole)
ISSUING_ROLES: Final[frozenset[MemberRole]] = frozenset({"issuer", "org_admin"})
"""Roles that may issue certificates; an ``operator`` looks up the organisation's register."""
_SUBJECT_RE: Final = re.compile(r"[\x21-\x7e]{1,255}")
_REGISTER_RE: Final = re.compile(r"[0-9A-Za-z./-]{1,64}")


@dataclass(frozen=True, slots=True)
class MemberRecord:
    """One member as stored: organisation (account id), subject, optional register number."""

    id: str
    account_id: str
    subject: str
    register_number: str | None
    role: MemberRole
    status: Status
    created_at: int
    updated_at: int


def _not_found(member_id: str) -> AccountError:
    return AccountError(f"no member with id {member_id!r}", code="member_not_found")


class Members:
    """The members of every organisation (every method is one transaction)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def add(
        self,
        *,
        account_id: str,
        subject: str,
        role: str,
        register_number: str | None,
        now: int,
    ) -> MemberRecord:
        """Make ``subject`` a member of the organisation ``account_id``."""
        if role not in MEMBER_ROLES:
            raise AccountError(
                f"role must be one of {', '.join(MEMBER_ROLES)}", code="role_invalid"
            )
        if not _SUBJECT_RE.fullmatch(subject):
            raise AccountError(
                "subject must be 1 to 255 printable ASCII characters", code="member_invalid"
            )
        if register_number is not None and not _REGISTER_RE.fullmatch(register_number):
            raise AccountError(
                "register number: 1 to 64 letters, digits, '.', '/' or '-'", code="member_invalid"
            )
        member_id = secrets.token_hex(8)
        try:
            async with unavailable_on_error("member add"), self._engine.begin() as conn:
                account = (
                    await conn.execute(select(ACCOUNTS.c.status).where(ACCOUNTS.c.id == account_id))
                ).first()
                if account is None or account.status == "removed":
                    raise AccountError(
                        f"no account with id {account_id!r}", code="account_not_found"
                    )
                await conn.execute(
                    MEMBERS.insert().values(
                        id=member_id,
                        account_id=account_id,
                        subject=subject,
                        register_number=register_number,
                        role=role,
                        status="active",
                        created_at=now,
                        updated_at=now,
                    )
                )
                await bump_accounts_version(conn)
                return (await _read(conn, MEMBERS.c.id == member_id))[0]
        except IntegrityError as exc:
            raise AccountError(
                "this subject is a member of an organisation already", code="member_exists"
            ) from exc

    async def list(
        self, *, account_id: str | None = None, include_removed: bool = False
    ) -> list[MemberRecord]:
        """The members (of ``account_id`` when given), oldest first."""
        conditions = []
        if account_id is not None:
            conditions.append(MEMBERS.c.account_id == account_id)
        if not include_removed:
            conditions.append(MEMBERS.c.status != "removed")
        async with unavailable_on_error("members read"), self._engine.connect() as conn:
            return await _read(conn, *conditions)

    async def read_all(self, conn: AsyncConnection) -> builtins.list[MemberRecord]:
        """Every member not removed, on the caller's connection (the directory's snapshot)."""
        return await _read(conn, MEMBERS.c.status != "removed")

    async def set_role(self, member_id: str, role: str, *, now: int) -> MemberRecord:
        """Give the member another role."""
        if role not in MEMBER_ROLES:
            raise AccountError(
                f"role must be one of {', '.join(MEMBER_ROLES)}", code="role_invalid"
            )
        return await self._change(member_id, now, {"role": role})

    async def set_status(self, member_id: str, status: Status, *, now: int) -> MemberRecord:
        """Enable, disable or remove the member (their sessions end at the next check)."""
        if status not in ("active", "disabled", "removed"):
            raise AccountError("status must be active, disabled or removed", code="status_invalid")
        return await self._change(member_id, now, {"status": status})

    async def _change(self, member_id: str, now: int, values: Mapping[str, object]) -> MemberRecord:
        async with unavailable_on_error("member change"), self._engine.begin() as conn:
            result = await conn.execute(
                update(MEMBERS)
                .where(MEMBERS.c.id == member_id)
                .where(MEMBERS.c.status != "removed")
                .values(**values, updated_at=now)
            )
            if result.rowcount != 1:
                raise _not_found(member_id)
            await bump_accounts_version(conn)
            return (await _read(conn, MEMBERS.c.id == member_id))[0]


async def _read(conn: AsyncConnection, *conditions: object) -> list[MemberRecord]:
    query = select(MEMBERS).order_by(MEMBERS.c.created_at, MEMBERS.c.id)
    for condition in conditions:
        query = query.where(condition)  # type: ignore[arg-type]
    return [
        MemberRecord(
            id=row.id,
            account_id=row.account_id,
            subject=row.subject,
            register_number=row.register_number,
            role=row.role,
            status=row.status,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )
        for row in (await conn.execute(query)).all()
    ]
