"""Idempotency keys (IETF draft "The Idempotency-Key HTTP Header Field"), kept in the store.

A client that retries a request with the same ``Idempotency-Key`` gets the first answer
again, byte for byte, instead of a second set of certificates. Keys are per account and
live :data:`RETENTION` (24 h). :meth:`Idempotency.claim` decides, in one atomic insert:

- :class:`Claimed`: the key is new (or its earlier attempt failed, or was abandoned by a
  crashed replica longer than :data:`LEASE` ago): go on and issue;
- :class:`Replay`: the same request completed: answer its stored response;
- ``"in_flight"``: the same request is being served right now: 409;
- ``"mismatch"``: the key was used for a different request: 422.

The stored response is written by :func:`complete` in the transaction that writes the
register rows (the group commit), so a response is replayable exactly when its
certificates are recorded. A request that fails before that calls :meth:`release`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

import orjson
from sqlalchemy import and_, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql.dml import Update
from sqlalchemy.sql.elements import ColumnElement

from store.engine import unavailable_on_error
from store.schema import IDEMPOTENCY_KEYS

__all__ = [
    "LEASE",
    "RETENTION",
    "Claimed",
    "Completion",
    "Idempotency",
    "Replay",
    "StoredResponse",
    "complete",
    "completion_update",
]

RETENTION: Final = 24 * 3600
"""Seconds a key is remembered."""
LEASE: Final = 120
"""Seconds after which a request still marked in flight is taken as abandoned (a crash)."""


@dataclass(frozen=True, slots=True)
class StoredResponse:
    """A response as it was answered: status, media type, the headers to replay, body."""

    status: int
    media_type: str
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True, slots=True)
class Claimed:
    """This request holds the key now (``started_at`` identifies the claim)."""

    account_id: str
    key: str
    started_at: int


@dataclass(frozen=True, slots=True)
class Replay:
    """The request completed before: answer ``response`` again."""

    response: StoredResponse


@dataclass(frozen=True, slots=True)
class Completion:
    """What :func:`complete` writes for a claim: the response it answered."""

    claim: Claimed
    response: StoredResponse


Outcome = Claimed | Replay | Literal["in_flight", "mismatch"]


async def complete(connection: AsyncConnection, completion: Completion) -> None:
    """Store the response of a claimed key (inside the caller's transaction)."""
    await connection.execute(completion_update(completion))


def completion_update(completion: Completion) -> Update:
    """The statement storing the response of a claimed key."""
    claim, response = completion.claim, completion.response
    return (
        update(IDEMPOTENCY_KEYS)
        .where(_key(claim.account_id, claim.key))
        .values(
            state="done",
            status=response.status,
            media_type=response.media_type,
            headers=orjson.dumps(response.headers).decode(),
            body=response.body,
        )
    )


def _key(account_id: str, key: str) -> ColumnElement[bool]:
    return and_(IDEMPOTENCY_KEYS.c.account_id == account_id, IDEMPOTENCY_KEYS.c.key == key)


class Idempotency:
    """Claims, replays and releases of idempotency keys."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        dialect = engine.dialect.name
        self._insert = postgresql.insert if dialect == "postgresql" else sqlite.insert

    async def claim(self, account_id: str, key: str, fingerprint: str, *, now: int) -> Outcome:
        """Claim ``key`` for a request whose fingerprint is ``fingerprint`` (see module doc)."""
        values = {
            "account_id": account_id,
            "key": key,
            "fingerprint": fingerprint,
            "state": "in_flight",
            "started_at": now,
            "created_at": now,
        }
        insert = self._insert(IDEMPOTENCY_KEYS).values(**values).on_conflict_do_nothing()
        where = _key(account_id, key)
        async with unavailable_on_error("idempotency key"), self._engine.begin() as conn:
            if (await conn.execute(insert)).rowcount == 1:
                return Claimed(account_id, key, now)
            row = (await conn.execute(select(IDEMPOTENCY_KEYS).where(where))).first()
            if row is None:  # released by a failed attempt between the two statements
                return "in_flight"
            if row.created_at <= now - RETENTION or (
                row.state == "in_flight" and row.started_at <= now - LEASE
            ):
                # Forgotten (older than the retention) or abandoned by a crashed replica;
                # of two retries taking it over at once, the row's old claim lets one win.
                taken = await conn.execute(
                    update(IDEMPOTENCY_KEYS)
                    .where(where)
                    .where(IDEMPOTENCY_KEYS.c.started_at == row.started_at)
                    .where(IDEMPOTENCY_KEYS.c.state == row.state)
                    .values(**values, body=None, status=None, headers=None, media_type=None)
                )
                return Claimed(account_id, key, now) if taken.rowcount == 1 else "in_flight"
            if row.fingerprint != fingerprint:
                return "mismatch"
            if row.state != "done":
                return "in_flight"
            return Replay(
                StoredResponse(
                    status=row.status,
                    media_type=row.media_type,
                    headers=orjson.loads(row.headers),
                    body=bytes(row.body),
                )
            )

    async def release(self, claim: Claimed) -> None:
        """Forget a claim whose request failed before completing (a retry starts afresh)."""
        where = and_(
            _key(claim.account_id, claim.key),
            IDEMPOTENCY_KEYS.c.state == "in_flight",
            IDEMPOTENCY_KEYS.c.started_at == claim.started_at,
        )
        async with unavailable_on_error("idempotency key"), self._engine.begin() as conn:
            await conn.execute(delete(IDEMPOTENCY_KEYS).where(where))

    async def purge(self, *, now: int) -> int:
        """Delete keys older than the retention; return how many."""
        old = IDEMPOTENCY_KEYS.c.created_at <= now - RETENTION
        async with unavailable_on_error("idempotency purge"), self._engine.begin() as conn:
            return int((await conn.execute(delete(IDEMPOTENCY_KEYS).where(old))).rowcount)
