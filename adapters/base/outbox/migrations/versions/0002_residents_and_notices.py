"""the sealed resident directory and the journal of the ledger's notices

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 00:00:01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "residents",
        sa.Column("resident", sa.String(length=64), nullable=False),
        sa.Column("sealed_id_number", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("resident"),
    )
    op.create_table(
        "notices",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("notice_id", sa.String(length=64), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=True),
        sa.Column("detail", sa.String(length=512), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("headers", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_notices_notice_id", "notices", ["notice_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_notices_notice_id", table_name="notices")
    op.drop_table("notices")
    op.drop_table("residents")
