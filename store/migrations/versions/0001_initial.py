"""Accounts and their API keys, the issuance register, idempotency keys.

Revision ID: 0001
Revises:
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", sa.String(16), primary_key=True),
        sa.Column("name", sa.String(80), nullable=False, unique=True),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("rate_count", sa.Integer),
        sa.Column("rate_period", sa.Integer),
        sa.Column("rate_burst", sa.Integer),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(16), primary_key=True),
        sa.Column("account_id", sa.String(16), sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("expires_at", sa.BigInteger),
    )
    op.create_index("ix_api_keys_account", "api_keys", ["account_id"])
    state = op.create_table(
        "store_state",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("accounts_version", sa.BigInteger, nullable=False),
    )
    op.bulk_insert(state, [{"id": 1, "accounts_version": 0}])
    op.create_table(
        "issuance_register",
        sa.Column("uvci", sa.String(80), primary_key=True),
        sa.Column("kid", sa.String(16), nullable=False),
        sa.Column("account_id", sa.String(16), nullable=False),
        sa.Column("member", sa.String(255)),
        sa.Column("test_type", sa.String(20), nullable=False),
        sa.Column("channel", sa.String(10), nullable=False),
        sa.Column("issued_at", sa.BigInteger, nullable=False),
        sa.Column("expires_at", sa.BigInteger, nullable=False),
        sa.Column("signature_hash", sa.String(24), nullable=False),
        sa.Column("uci_hash", sa.String(24), nullable=False),
        sa.Column("country_uci_hash", sa.String(24), nullable=False),
    )
    op.create_index("ix_register_account_issued", "issuance_register", ["account_id", "issued_at"])
    op.create_index("ix_register_kid_expires", "issuance_register", ["kid", "expires_at"])
    op.create_index("ix_register_expires", "issuance_register", ["expires_at"])
    op.create_table(
        "idempotency_keys",
        sa.Column("account_id", sa.String(16), primary_key=True),
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("started_at", sa.BigInteger, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("status", sa.Integer),
        sa.Column("media_type", sa.String(100)),
        sa.Column("headers", sa.Text),
        sa.Column("body", sa.LargeBinary),
    )
    op.create_index("ix_idempotency_created", "idempotency_keys", ["created_at"])


def downgrade() -> None:
    op.drop_table("idempotency_keys")
    op.drop_table("issuance_register")
    op.drop_table("store_state")
    op.drop_table("api_keys")
    op.drop_table("accounts")
