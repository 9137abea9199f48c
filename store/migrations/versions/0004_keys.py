"""Key scoping: an account may be bound to a named scope (it signs with that scope's DSC).

Revision ID: 0004_keys
Revises: 0003_revocation
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_keys"
down_revision = "0003_revocation"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(sa.Column("scope", sa.String(40)))


def downgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("scope")
