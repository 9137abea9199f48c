"""The tables, as SQLAlchemy Core sees them (the migrations in store/migrations create them).

Times are integers (seconds since the epoch, UTC) on both backends, so ranges compare the
same way in PostgreSQL and SQLite. Nothing here ever holds a name or a date of birth.

- ``accounts``: who may issue (``role``), whether they may now (``status``), and their own
  quota when they have one (``rate_count`` per ``rate_period`` seconds, burst
  ``rate_burst``), and the key scope it signs in (``scope``; NULL: the default DSC).
  Organisations and members (named logins) attach here later.
- ``api_keys``: the keys of an account, by the key id embedded in the key; only the SHA-256
  of each key. Two may be valid at once while a key is rotated (``expires_at``).
- ``store_state``: one row; ``accounts_version`` grows with every change to accounts or
  keys, so replicas see changes by reading one integer.
- ``issuance_register``: one row per certificate issued, with the three revocation hashes
  of hcert §8 (SIGNATURE, UCI, COUNTRYCODEUCI), its kid, account, member, channel, times.
- ``idempotency_keys``: the response stored for a client's ``Idempotency-Key``.
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
    "METADATA",
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
