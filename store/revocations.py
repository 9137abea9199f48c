"""Revocations in the store: by certificate, by account in a time window, by DSC (kid).

Every revocation is a row of ``revocations`` (the UVCI; its kid and ``exp`` copied from the
register; who, when and why), written by **one set-based statement** per call:
``INSERT INTO revocations SELECT … FROM issuance_register WHERE … ON CONFLICT DO NOTHING``,
so that revoking 100,000 certificates of a fraudulent account is one statement (no rows
travel to Python) and revoking twice is harmless: a certificate revoked already keeps its
first revocation (who, when, why) and is counted as ``already``. The same statement runs on
PostgreSQL and SQLite (3.24+).

Revoking a DSC (the leak case) revokes every certificate the register holds for its kid
and records the key itself in ``revoked_keys`` with the moment verifiers should stop
trusting it (``distrust_at``, default now): :meth:`Revocations.revoked_keys` is what the
trust list leaves out.

Every change bumps ``revocation_state.version`` in the same transaction, so a replica knows
whether its published list is current by reading one integer.

A guided re-issue (:meth:`Revocations.reissue`) records the new certificate's register row
and revokes the old one with reason ``reissued`` (``replaced_by`` = the new UVCI) in one
transaction: either both happen or neither.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal, Protocol, get_args

from sqlalchemy import BigInteger, String, Table, func, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql.elements import ColumnElement

from signing.errors import DccError
from store.engine import unavailable_on_error
from store.register import IssuanceRecord, insert_rows
from store.schema import ISSUANCE_REGISTER, REVOCATION_STATE, REVOCATIONS, REVOKED_KEYS

__all__ = [
    "REASONS",
    "REISSUABLE_REASONS",
    "ListEntry",
    "ListRow",
    "Outcome",
    "Reason",
    "RevocationConflict",
    "RevocationInvalid",
    "RevocationNotFound",
    "RevocationRecord",
    "Revocations",
    "RevokedKey",
    "check_reason",
]

Reason = Literal["fraud", "key_compromise", "issued_in_error", "reissued", "other"]
REASONS: Final[tuple[Reason, ...]] = get_args(Reason)
REISSUABLE_REASONS: Final[frozenset[str]] = frozenset({"key_compromise", "issued_in_error"})
"""A certificate revoked for these may still be re-issued by its account (not for fraud)."""


class RevocationNotFound(DccError):
    """The certificate to revoke or re-issue is not in the register."""

    default_code = "certificate_not_found"


class RevocationInvalid(DccError):
    """A revocation asked with a reason or time window that cannot be."""

    default_code = "reason_invalid"


class RevocationConflict(DccError):
    """A re-issue that cannot happen: already re-issued, revoked for fraud, or not yours."""

    default_code = "certificate_not_reissuable"


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one revocation call did: certificates it matched, and how many it revoked now
    (the others were revoked already)."""

    matched: int
    revoked: int

    @property
    def already(self) -> int:
        """Matched certificates that were revoked before this call."""
        return self.matched - self.revoked


@dataclass(frozen=True, slots=True)
class RevocationRecord:
    """One revoked certificate as stored."""

    uvci: str
    kid: str
    expires_at: int
    reason: str
    revoked_by: str
    revoked_at: int
    replaced_by: str | None


@dataclass(frozen=True, slots=True)
class RevokedKey:
    """A DSC revoked as a whole; verifiers stop trusting it from ``distrust_at``."""

    kid: str
    reason: str
    revoked_by: str
    revoked_at: int
    distrust_at: int


class ListRow(Protocol):
    """A row of :meth:`Revocations.listing` (the database's row object, read by attribute:
    100,000 of them are not copied on the event loop)."""

    @property
    def kid(self) -> str: ...
    @property
    def expires_at(self) -> int: ...
    @property
    def signature_hash(self) -> str: ...
    @property
    def uci_hash(self) -> str: ...
    @property
    def country_uci_hash(self) -> str: ...


@dataclass(frozen=True, slots=True)
class ListEntry:
    """What the published list needs of one revoked, unexpired certificate (a
    :class:`ListRow` built in Python)."""

    kid: str
    expires_at: int
    signature_hash: str
    uci_hash: str
    country_uci_hash: str


def check_reason(reason: str) -> Reason:
    """``reason`` when it is one of :data:`REASONS` (else ``reason_invalid``)."""
    if reason not in REASONS:
        raise RevocationInvalid(f"reason must be one of {', '.join(REASONS)}")
    return reason


def _insert_ignoring_conflicts(dialect: str, table: Table = REVOCATIONS) -> Any:
    """The dialect's INSERT, which has ``on_conflict_do_nothing`` (PostgreSQL, SQLite)."""
    module: Any = postgresql if dialect == "postgresql" else sqlite
    return module.insert(table)


async def _bump(conn: AsyncConnection) -> None:
    await conn.execute(
        update(REVOCATION_STATE)
        .where(REVOCATION_STATE.c.id == 1)
        .values(version=REVOCATION_STATE.c.version + 1)
    )


async def _revoke_where(
    conn: AsyncConnection,
    where: ColumnElement[bool],
    *,
    reason: str,
    by: str,
    now: int,
    replaced_by: str | None = None,
) -> Outcome:
    """Revoke every register row matching ``where``, in one statement."""
    register = ISSUANCE_REGISTER.c
    matched = int(
        (
            await conn.execute(select(func.count()).select_from(ISSUANCE_REGISTER).where(where))
        ).scalar_one()
    )
    if not matched:
        return Outcome(0, 0)
    rows = select(
        register.uvci,
        register.kid,
        register.expires_at,
        literal(reason, String),
        literal(by, String),
        literal(now, BigInteger),
        literal(replaced_by, String),
    ).where(where)
    statement = (
        _insert_ignoring_conflicts(conn.dialect.name)
        .from_select(
            ["uvci", "kid", "expires_at", "reason", "revoked_by", "revoked_at", "replaced_by"],
            rows,
        )
        .on_conflict_do_nothing(index_elements=["uvci"])
    )
    revoked = (await conn.execute(statement)).rowcount
    if revoked:
        await _bump(conn)
    revoked = max(0, revoked)
    return Outcome(max(matched, revoked), revoked)  # rows issued between the two statements


def _record(row: Any) -> RevocationRecord:
    mapping = row._mapping
    return RevocationRecord(**{name: mapping[name] for name in RevocationRecord.__slots__})


class Revocations:
    """Revoking certificates and keys, reading what is revoked (each call one transaction)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def version(self) -> int:
        """Grows with every revocation (of a certificate or a key)."""
        query = select(REVOCATION_STATE.c.version).where(REVOCATION_STATE.c.id == 1)
        async with unavailable_on_error("revocation version"), self._engine.connect() as conn:
            return int((await conn.execute(query)).scalar_one())

    async def revoke_certificate(self, uvci: str, *, reason: str, by: str, now: int) -> Outcome:
        """Revoke one certificate (raise ``certificate_not_found`` when it is not ours)."""
        check_reason(reason)
        async with unavailable_on_error("revocation"), self._engine.begin() as conn:
            outcome = await _revoke_where(
                conn, ISSUANCE_REGISTER.c.uvci == uvci, reason=reason, by=by, now=now
            )
        if not outcome.matched:
            raise RevocationNotFound("no certificate with this UVCI was issued here", uvci=uvci)
        return outcome

    async def revoke_account(
        self,
        account_id: str,
        *,
        issued_from: int,
        issued_until: int,
        member: str | None = None,
        reason: str,
        by: str,
        now: int,
    ) -> Outcome:
        """Revoke what ``account_id`` (or one ``member`` of it) issued in
        [``issued_from``, ``issued_until``): the fraud case."""
        check_reason(reason)
        if issued_until <= issued_from:
            raise RevocationInvalid(
                "the time window must end after it starts", code="revocation_window_invalid"
            )
        register = ISSUANCE_REGISTER.c
        where = (
            (register.account_id == account_id)
            & (register.issued_at >= issued_from)
            & (register.issued_at < issued_until)
        )
        if member is not None:
            where = where & (register.member == member)
        async with unavailable_on_error("revocation"), self._engine.begin() as conn:
            return await _revoke_where(conn, where, reason=reason, by=by, now=now)

    async def revoke_key(
        self, kid: str, *, reason: str, by: str, now: int, distrust_at: int | None = None
    ) -> Outcome:
        """Revoke every certificate signed by the DSC ``kid`` and record the key itself
        (verifiers should drop it from ``distrust_at``, default now): the leak case."""
        check_reason(reason)
        async with unavailable_on_error("revocation"), self._engine.begin() as conn:
            outcome = await _revoke_where(
                conn, ISSUANCE_REGISTER.c.kid == kid, reason=reason, by=by, now=now
            )
            statement = (
                _insert_ignoring_conflicts(conn.dialect.name, REVOKED_KEYS)
                .values(
                    kid=kid,
                    reason=reason,
                    revoked_by=by,
                    revoked_at=now,
                    distrust_at=now if distrust_at is None else distrust_at,
                )
                .on_conflict_do_nothing(index_elements=["kid"])
            )
            if (await conn.execute(statement)).rowcount:
                await _bump(conn)
        return outcome

    async def revoked_keys(self) -> list[RevokedKey]:
        """Every revoked DSC (oldest revocation first)."""
        query = select(REVOKED_KEYS).order_by(REVOKED_KEYS.c.revoked_at, REVOKED_KEYS.c.kid)
        async with unavailable_on_error("revocation read"), self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [
            RevokedKey(row.kid, row.reason, row.revoked_by, row.revoked_at, row.distrust_at)
            for row in rows
        ]

    async def revoked_kids(self, *, now: int) -> frozenset[str]:
        """The kids (base64) of the DSCs a trust list must leave out at ``now``."""
        return frozenset(key.kid for key in await self.revoked_keys() if key.distrust_at <= now)

    async def get(self, uvci: str) -> RevocationRecord | None:
        """The revocation of ``uvci``, if it was revoked."""
        query = select(REVOCATIONS).where(REVOCATIONS.c.uvci == uvci)
        async with unavailable_on_error("revocation read"), self._engine.connect() as conn:
            row = (await conn.execute(query)).first()
        return _record(row) if row is not None else None

    async def count(self, *, reason: str | None = None) -> int:
        """How many certificates are revoked (for ``reason`` when given), expired ones too."""
        query = select(func.count()).select_from(REVOCATIONS)
        if reason is not None:
            query = query.where(REVOCATIONS.c.reason == reason)
        async with unavailable_on_error("revocation read"), self._engine.connect() as conn:
            return int((await conn.execute(query)).scalar_one())

    async def counts_by_reason(self) -> dict[str, int]:
        """How many certificates are revoked, by reason (expired ones too)."""
        reason = REVOCATIONS.c.reason
        query = select(reason, func.count()).group_by(reason)
        async with unavailable_on_error("revocation read"), self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return {str(row[0]): int(row[1]) for row in rows}

    async def listing(self, *, now: int) -> tuple[int, Sequence[ListRow]]:
        """The version and every revoked certificate not expired at ``now``, with its three
        hashes (ordered by kid, then ``exp``), read consistently (:meth:`revoked_keys` for
        the keys)."""
        revocation, register = REVOCATIONS.c, ISSUANCE_REGISTER.c
        query = (
            select(
                revocation.kid,
                revocation.expires_at,
                register.signature_hash,
                register.uci_hash,
                register.country_uci_hash,
            )
            .join_from(REVOCATIONS, ISSUANCE_REGISTER, register.uvci == revocation.uvci)
            .where(revocation.expires_at > now)
            .order_by(revocation.kid, revocation.expires_at, register.signature_hash)
        )
        version = select(REVOCATION_STATE.c.version).where(REVOCATION_STATE.c.id == 1)
        async with unavailable_on_error("revocation read"), self._engine.begin() as conn:
            current = int((await conn.execute(version)).scalar_one())
            rows = (await conn.execute(query)).all()
        return current, rows

    async def reissue(
        self, old_uvci: str, new: IssuanceRecord, *, by: str, now: int
    ) -> RevocationRecord:
        """Record ``new`` and revoke ``old_uvci`` (reason ``reissued``) in one transaction.

        Only the account that issued ``old_uvci`` may re-issue it, once, and not after a
        revocation for fraud (:data:`REISSUABLE_REASONS`).
        """
        async with unavailable_on_error("re-issue"), self._engine.begin() as conn:
            await _check_reissuable(conn, old_uvci, new.account_id)
            outcome = await _revoke_where(
                conn,
                ISSUANCE_REGISTER.c.uvci == old_uvci,
                reason="reissued",
                by=by,
                now=now,
                replaced_by=new.uvci,
            )
            if not outcome.revoked:  # revoked before (a leaked key): name its replacement
                changed = await conn.execute(
                    update(REVOCATIONS)
                    .where(REVOCATIONS.c.uvci == old_uvci)
                    .where(REVOCATIONS.c.replaced_by.is_(None))
                    .values(replaced_by=new.uvci)
                )
                if changed.rowcount != 1:
                    raise RevocationConflict("this certificate was re-issued already")
                await _bump(conn)
            await insert_rows(conn, [new])
            row = (
                await conn.execute(select(REVOCATIONS).where(REVOCATIONS.c.uvci == old_uvci))
            ).one()
        return _record(row)

    async def can_reissue(self, old_uvci: str, account_id: str) -> None:
        """Raise as :meth:`reissue` would, before anything is signed (checked again there)."""
        async with unavailable_on_error("re-issue check"), self._engine.connect() as conn:
            await _check_reissuable(conn, old_uvci, account_id)


async def _check_reissuable(conn: AsyncConnection, old_uvci: str, account_id: str) -> None:
    register = ISSUANCE_REGISTER.c
    issued = (
        await conn.execute(select(register.account_id).where(register.uvci == old_uvci))
    ).first()
    if issued is None:
        raise RevocationNotFound("no certificate with this UVCI was issued here", uvci=old_uvci)
    if issued.account_id != account_id:
        raise RevocationConflict(
            "only the account that issued a certificate may re-issue it",
            code="certificate_not_yours",
        )
    revoked = (
        await conn.execute(
            select(REVOCATIONS.c.reason, REVOCATIONS.c.replaced_by).where(
                REVOCATIONS.c.uvci == old_uvci
            )
        )
    ).first()
    if revoked is None:
        return
    if revoked.replaced_by is not None or revoked.reason == "reissued":
        raise RevocationConflict("this certificate was re-issued already")
    if revoked.reason not in REISSUABLE_REASONS:
        raise RevocationConflict(
            f"a certificate revoked for {revoked.reason} cannot be re-issued by its account"
        )
