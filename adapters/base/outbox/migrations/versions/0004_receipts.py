"""the ledger's receipts: inclusion proofs of published events, the ledger's rejections, the
checkpoints that contradict each other, and when events were published

Revision ID: 0004
Revises: 0003
Create Date: 2027-01-10 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "published_marks",
        sa.Column("through_seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("through_seq"),
    )
    # The events already published went out before their times were kept: a mark without a
    # time, so that none of them is given the time of a later mark. (Tables of a MetaData, not
    # lightweight `sa.table`s: only those are put in the outbox's PostgreSQL schema.)
    known = sa.MetaData()
    state = sa.Table("adapter_state", known, sa.Column("name", sa.String(64)),
                     sa.Column("value", sa.Text()))
    marks = sa.Table("published_marks", known, sa.Column("through_seq", sa.BigInteger()),
                     sa.Column("published_at", sa.DateTime(timezone=True)))
    op.execute(sa.insert(marks).from_select(
        ["through_seq", "published_at"],
        sa.select(sa.cast(state.c.value, sa.BigInteger()), sa.null())
        .where(state.c.name == "published_through")))
    op.create_table(
        "receipts",
        sa.Column("outbox_seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("ledger_seq", sa.BigInteger(), nullable=False),
        sa.Column("tree_size", sa.BigInteger(), nullable=False),
        sa.Column("leaf_hash", sa.String(length=64), nullable=False),
        sa.Column("proof_hashes", sa.Text(), nullable=False),
        sa.Column("checkpoint", sa.Text(), nullable=False),
        sa.Column("proven_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["outbox_seq"], ["outbox_events.seq"]),
        sa.PrimaryKeyConstraint("outbox_seq"),
        sa.UniqueConstraint("event_id"),
        sa.UniqueConstraint("ledger_seq"),
    )
    op.create_table(
        "ledger_rejections",
        sa.Column("outbox_seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=False),
        sa.Column("learned_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["outbox_seq"], ["outbox_events.seq"]),
        sa.PrimaryKeyConstraint("outbox_seq"),
        sa.UniqueConstraint("event_id"),
    )
    op.create_table(
        "inconsistent_checkpoints",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kept_size", sa.BigInteger(), nullable=False),
        sa.Column("shown_size", sa.BigInteger(), nullable=False),
        sa.Column("kept_checkpoint", sa.Text(), nullable=False),
        sa.Column("shown_checkpoint", sa.Text(), nullable=False),
        sa.Column("detail", sa.String(length=512), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    for table in ("inconsistent_checkpoints", "ledger_rejections", "receipts",
                  "published_marks"):
        op.drop_table(table)
