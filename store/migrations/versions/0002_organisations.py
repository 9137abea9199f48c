"""Organisations and their members (named logins); login sessions.

An account IS an organisation: ``accounts.kind`` says which (pharmacy, lab, test centre).
``members`` are the people of an organisation, known by the identity provider's opaque
subject id (never a name); ``login_states`` hold an OpenID Connect login in progress (state,
nonce, PKCE verifier) and ``sessions`` the pages' server-side sessions.

Revision ID: 0002_organisations
Revises: 0001
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_organisations"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("accounts", sa.Column("kind", sa.String(20)))
    op.execute("UPDATE accounts SET kind = CASE WHEN role = 'lab' THEN 'lab' ELSE 'pharmacy' END")
    op.create_table(
        "members",
        sa.Column("id", sa.String(16), primary_key=True),
        sa.Column("account_id", sa.String(16), sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False, unique=True),
        sa.Column("register_number", sa.String(64)),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_members_account", "members", ["account_id"])
    op.create_table(
        "login_states",
        sa.Column("state_hash", sa.String(64), primary_key=True),
        sa.Column("nonce", sa.String(64), nullable=False),
        sa.Column("code_verifier", sa.String(128), nullable=False),
        sa.Column("return_to", sa.String(200), nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_login_states_created", "login_states", ["created_at"])
    op.create_table(
        "sessions",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("member_id", sa.String(16), sa.ForeignKey("members.id"), nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("last_seen_at", sa.BigInteger, nullable=False),
        sa.Column("expires_at", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_sessions_member", "sessions", ["member_id"])
    op.create_index("ix_sessions_expires", "sessions", ["expires_at"])


def downgrade() -> None:
    op.drop_table("sessions")
    op.drop_table("login_states")
    op.drop_table("members")
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("kind")
