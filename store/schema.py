"""The tables, as SQLAlchemy Core sees them (the migrations in store/migrations create them).

Times are integers (seconds since the epoch, UTC) on both backends, so ranges compare the
same way in PostgreSQL and SQLite. Nothing here ever holds a name or a date of birth.

- ``accounts``: who may issue (``role``), whether they may now (``status``), and their own
  quota when they have one (``rate_count`` per ``rate_period`` seconds, burst
  ``rate_burst``), and the key scope it signs in (``scope``; NULL: the default DSC). An
  account IS an organisation; ``kind`` says which (pharmacy, lab, test centre).
- ``members``: the people of an organisation (named logins), by the identity provider's
  opaque subject id, with an optional professional register number, a role and a status.
- ``login_states``: OpenID Connect logins in progress (hash of the state, nonce, PKCE
  verifier), kept minutes; ``sessions``: the pages' server-side sessions (hash of the
  cookie's token, CSRF token, idle and absolute expiry).
- ``api_keys``: the keys of an account, by the key id embedded in the key; only the SHA-256
  of each key. Two may be valid at once while a key is rotated (``expires_at``).
- ``store_state``: one row; ``accounts_version`` grows with every change to accounts or
  keys, so replicas see changes by reading one integer.
- ``issuance_register``: one row per certificate issued, with the three revocation hashes
  of hcert §8 (SIGNATURE, UCI, COUNTRYCODEUCI), its kid, account, member, channel, times.
- ``idempotency_keys``: the response stored for a client's ``Idempotency-Key``.
- ``revocations``: one row per revoked certificate (its UVCI, kid and ``exp`` copied from
  the register), with who revoked it, when and why; ``replaced_by`` names the certificate a
  guided re-issue made in its place.
- ``revoked_keys``: the DSCs revoked as a whole (the leak case), and from when verifiers
  should stop trusting them (``distrust_at``).
- ``revocation_state``: one row; ``version`` grows with every revocation, so replicas
  rebuild the published list only when it changed.
"""

from __future__ import annotations

from typing import Final

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

__all__ = [
    "ACCOUNTS",
    "API_KEYS",
    "IDEMPOTENCY_KEYS",
    "ISSUANCE_REGISTER",
    "LOGIN_STATES",
    "MEMBERS",
    "METADATA",
    "REVOCATIONS",
    "REVOCATION_STATE",
    "REVOKED_KEYS",
    "SESSIONS",
    "STORE_STATE",
]

METADATA: Final = MetaData()

ACCOUNTS: Final = Table(
    "accounts",
    METADATA,
    Column("id", String(16), primary_key=True),
    Column("name", String(80), nullable=False, unique=True),
    Column("role", String(20), nullable=False),
    Column("status", String(20), nullable=False),
    Column("rate_count", Integer),
    Column("rate_period", Integer),
    Column("rate_burst", Integer),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Column("kind", String(20)),
    Column("scope", String(40)),
)

API_KEYS: Final = Table(
    "api_keys",
    METADATA,
    Column("id", String(16), primary_key=True),
    Column("account_id", String(16), ForeignKey("accounts.id"), nullable=False),
    Column("key_hash", String(64), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger),
    Index("ix_api_keys_account", "account_id"),
)

STORE_STATE: Final = Table(
    "store_state",
    METADATA,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("accounts_version", BigInteger, nullable=False),
)

ISSUANCE_REGISTER: Final = Table(
    "issuance_register",
    METADATA,
    Column("uvci", String(80), primary_key=True),
    Column("kid", String(16), nullable=False),
    Column("account_id", String(16), nullable=False),
    Column("member", String(255)),
    Column("test_type", String(20), nullable=False),
    Column("channel", String(10), nullable=False),
    Column("issued_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Column("signature_hash", String(24), nullable=False),
    Column("uci_hash", String(24), nullable=False),
    Column("country_uci_hash", String(24), nullable=False),
    Index("ix_register_account_issued", "account_id", "issued_at"),
    Index("ix_register_kid_expires", "kid", "expires_at"),
    Index("ix_register_expires", "expires_at"),
)

IDEMPOTENCY_KEYS: Final = Table(
    "idempotency_keys",
    METADATA,
    Column("account_id", String(16), primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("state", String(10), nullable=False),
    Column("started_at", BigInteger, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("status", Integer),
    Column("media_type", String(100)),
    Column("headers", Text),
    Column("body", LargeBinary),
    Index("ix_idempotency_created", "created_at"),
)

MEMBERS: Final = Table(
    "members",
    METADATA,
    Column("id", String(16), primary_key=True),
    Column("account_id", String(16), ForeignKey("accounts.id"), nullable=False),
    Column("subject", String(255), nullable=False, unique=True),
    Column("register_number", String(64)),
    Column("role", String(20), nullable=False),
    Column("status", String(20), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Index("ix_members_account", "account_id"),
)

LOGIN_STATES: Final = Table(
    "login_states",
    METADATA,
    Column("state_hash", String(64), primary_key=True),
    Column("nonce", String(64), nullable=False),
    Column("code_verifier", String(128), nullable=False),
    Column("return_to", String(200), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Index("ix_login_states_created", "created_at"),
)

SESSIONS: Final = Table(
    "sessions",
    METADATA,
    Column("token_hash", String(64), primary_key=True),
    Column("member_id", String(16), ForeignKey("members.id"), nullable=False),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("last_seen_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Index("ix_sessions_member", "member_id"),
    Index("ix_sessions_expires", "expires_at"),
)

REVOCATIONS: Final = Table(
    "revocations",
    METADATA,
    Column("uvci", String(80), primary_key=True),
    Column("kid", String(16), nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Column("reason", String(20), nullable=False),
    Column("revoked_by", String(80), nullable=False),
    Column("revoked_at", BigInteger, nullable=False),
    Column("replaced_by", String(80)),
    Index("ix_revocations_expires", "expires_at"),
    Index("ix_revocations_reason", "reason"),
)

REVOKED_KEYS: Final = Table(
    "revoked_keys",
    METADATA,
    Column("kid", String(16), primary_key=True),
    Column("reason", String(20), nullable=False),
    Column("revoked_by", String(80), nullable=False),
    Column("revoked_at", BigInteger, nullable=False),
    Column("distrust_at", BigInteger, nullable=False),
)

REVOCATION_STATE: Final = Table(
    "revocation_state",
    METADATA,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("version", BigInteger, nullable=False),
)
