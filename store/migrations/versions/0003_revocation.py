"""Revocations: revoked certificates, revoked DSCs, the revocation version counter.

Revision ID: 0003_revocation
Revises: 0002_organisations
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_revocation"
down_revision = "0002_organisations"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "revocations",
        sa.Column("uvci", sa.String(80), primary_key=True),
        sa.Column("kid", sa.String(16), nullable=False),
        sa.Column("expires_at", sa.BigInteger, nullable=False),
        sa.Column("reason", sa.String(20), nullable=False),
        sa.Column("revoked_by", sa.String(80), nullable=False),
        sa.Column("revoked_at", sa.BigInteger, nullable=False),
        sa.Column("replaced_by", sa.String(80)),
    )
    op.create_index("ix_revocations_expires", "revocations", ["expires_at"])
    op.create_index("ix_revocations_reason", "revocations", ["reason"])
    op.create_table(
        "revoked_keys",
        sa.Column("kid", sa.String(16), primary_key=True),
        sa.Column("reason", sa.String(20), nullable=False),
        sa.Column("revoked_by", sa.String(80), nullable=False),
        sa.Column("revoked_at", sa.BigInteger, nullable=False),
        sa.Column("distrust_at", sa.BigInteger, nullable=False),
    )
    state = op.create_table(
        "revocation_state",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("version", sa.BigInteger, nullable=False),
    )
    op.bulk_insert(state, [{"id": 1, "version": 0}])


def downgrade() -> None:
    op.drop_table("revocation_state")
    op.drop_table("revoked_keys")
    op.drop_table("revocations")
