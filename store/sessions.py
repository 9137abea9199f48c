"""Login sessions of the pages: OpenID Connect logins in progress, then server-side sessions.

Only hashes of the secrets the browser holds are stored (the ``state`` of a login, the
session cookie's token): a copy of the database lets nobody take over a session. A login
in progress is taken once (:meth:`Sessions.take_login`), within :data:`LOGIN_SECONDS`. A
session ends at its absolute ``expires_at``, after ``idle`` seconds without a request, at
logout, or when its member stops being active (the caller checks the member).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Final

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from store.engine import unavailable_on_error
from store.schema import LOGIN_STATES, SESSIONS

__all__ = ["LOGIN_SECONDS", "PendingLogin", "SessionRecord", "Sessions", "token_hash"]

LOGIN_SECONDS: Final = 600
"""How long a login may take at the identity provider."""
TOUCH_SECONDS: Final = 30
"""A session's ``last_seen_at`` is written at most this often (not on every request)."""


def token_hash(token: str) -> str:
    """The hex SHA-256 of a random token (256 bits: a fast hash suffices)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class PendingLogin:
    """What a login in progress must find again at the callback."""

    nonce: str
    code_verifier: str
    return_to: str


@dataclass(frozen=True, slots=True)
class SessionRecord:
    """A live session: its member, its CSRF token, when it was last used."""

    member_id: str
    csrf_token: str
    created_at: int
    last_seen_at: int
    expires_at: int


class Sessions:
    """Logins in progress and sessions, in the store."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def start_login(self, state: str, pending: PendingLogin, *, now: int) -> None:
        """Remember a login in progress under ``state`` (and forget those too old)."""
        async with unavailable_on_error("login start"), self._engine.begin() as conn:
            await conn.execute(
                delete(LOGIN_STATES).where(LOGIN_STATES.c.created_at < now - LOGIN_SECONDS)
            )
            await conn.execute(
                LOGIN_STATES.insert().values(
                    state_hash=token_hash(state),
                    nonce=pending.nonce,
                    code_verifier=pending.code_verifier,
                    return_to=pending.return_to,
                    created_at=now,
                )
            )

    async def take_login(self, state: str, *, now: int) -> PendingLogin | None:
        """The login started under ``state``, once (None when unknown, used or too old)."""
        where = LOGIN_STATES.c.state_hash == token_hash(state)
        async with unavailable_on_error("login finish"), self._engine.begin() as conn:
            row = (await conn.execute(select(LOGIN_STATES).where(where))).first()
            if row is None:
                return None
            taken = await conn.execute(delete(LOGIN_STATES).where(where))
        if taken.rowcount != 1 or row.created_at < now - LOGIN_SECONDS:
            return None
        return PendingLogin(row.nonce, row.code_verifier, row.return_to)

    async def create(self, member_id: str, *, now: int, lifetime: int) -> tuple[str, str]:
        """A new session for ``member_id``: (cookie token, CSRF token)."""
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        async with unavailable_on_error("session create"), self._engine.begin() as conn:
            await conn.execute(delete(SESSIONS).where(SESSIONS.c.expires_at <= now))
            await conn.execute(
                SESSIONS.insert().values(
                    token_hash=token_hash(token),
                    member_id=member_id,
                    csrf_token=csrf,
                    created_at=now,
                    last_seen_at=now,
                    expires_at=now + lifetime,
                )
            )
        return token, csrf

    async def get(self, token: str, *, now: int, idle: int) -> SessionRecord | None:
        """The live session of ``token`` (None when unknown, expired or idle too long);
        marks it used."""
        where = SESSIONS.c.token_hash == token_hash(token)
        async with unavailable_on_error("session read"), self._engine.connect() as conn:
            row = (await conn.execute(select(SESSIONS).where(where))).first()
        if row is None:
            return None
        if now >= row.expires_at or now - row.last_seen_at >= idle:
            await self.end(token)
            return None
        if now - row.last_seen_at >= TOUCH_SECONDS:
            async with unavailable_on_error("session touch"), self._engine.begin() as conn:
                await conn.execute(update(SESSIONS).where(where).values(last_seen_at=now))
        return SessionRecord(
            row.member_id, row.csrf_token, row.created_at, row.last_seen_at, row.expires_at
        )

    async def end(self, token: str) -> None:
        """End the session of ``token`` (logout)."""
        async with unavailable_on_error("session end"), self._engine.begin() as conn:
            await conn.execute(delete(SESSIONS).where(SESSIONS.c.token_hash == token_hash(token)))

    async def end_member(self, member_id: str) -> int:
        """End every session of ``member_id``; how many there were."""
        async with unavailable_on_error("session end"), self._engine.begin() as conn:
            result = await conn.execute(delete(SESSIONS).where(SESSIONS.c.member_id == member_id))
        return int(result.rowcount)
