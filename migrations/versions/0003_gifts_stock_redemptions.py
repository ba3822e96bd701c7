"""gifts, branch stock, redemptions and their reversals, outbound notices

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 12:27:38.968035
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('gifts',
    sa.Column('sku', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('points_cost', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('points_cost > 0', name=op.f('ck_gifts_positive_cost')),
    sa.PrimaryKeyConstraint('sku', name=op.f('pk_gifts'))
    )
    op.create_table('branch_stock',
    sa.Column('branch', sa.String(length=32), nullable=False),
    sa.Column('sku', sa.String(length=32), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.CheckConstraint('quantity >= 0', name=op.f('ck_branch_stock_never_negative')),
    sa.ForeignKeyConstraint(['branch'], ['branches.code'], name=op.f('fk_branch_stock_branch_branches')),
    sa.ForeignKeyConstraint(['sku'], ['gifts.sku'], name=op.f('fk_branch_stock_sku_gifts')),
    sa.PrimaryKeyConstraint('branch', 'sku', name=op.f('pk_branch_stock'))
    )
    op.create_table('outbound_notices',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('notice_id', sa.String(length=64), nullable=False),
    sa.Column('platform', sa.String(length=32), nullable=False),
    sa.Column('routing_key', sa.String(length=128), nullable=False),
    sa.Column('body', sa.LargeBinary(), nullable=False),
    sa.Column('headers', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['platform'], ['platforms.code'], name=op.f('fk_outbound_notices_platform_platforms')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbound_notices')),
    sa.UniqueConstraint('notice_id', name=op.f('uq_outbound_notices_notice_id'))
    )
    with op.batch_alter_table('outbound_notices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbound_notices_published_at_id'), ['published_at', 'id'], unique=False)

    op.create_table('redemptions',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('branch', sa.String(length=32), nullable=False),
    sa.Column('business_day', sa.String(length=10), nullable=False),
    sa.Column('receipt_no', sa.String(length=48), nullable=False),
    sa.Column('resident', sa.String(length=64), nullable=False),
    sa.Column('platform', sa.String(length=32), nullable=False),
    sa.Column('sku', sa.String(length=32), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.Column('balance_after', sa.BigInteger(), nullable=False),
    sa.Column('teller', sa.String(length=64), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ledger_seq', sa.BigInteger(), nullable=False),
    sa.Column('idempotency_key', sa.String(length=128), nullable=False),
    sa.Column('request_sha256', sa.String(length=64), nullable=False),
    sa.CheckConstraint('quantity > 0 AND points > 0', name=op.f('ck_redemptions_positive')),
    sa.ForeignKeyConstraint(['branch'], ['branches.code'], name=op.f('fk_redemptions_branch_branches')),
    sa.ForeignKeyConstraint(['platform'], ['platforms.code'], name=op.f('fk_redemptions_platform_platforms')),
    sa.ForeignKeyConstraint(['sku'], ['gifts.sku'], name=op.f('fk_redemptions_sku_gifts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_redemptions')),
    sa.UniqueConstraint('branch', 'receipt_no', name=op.f('uq_redemptions_branch_receipt_no')),
    sa.UniqueConstraint('teller', 'idempotency_key', name=op.f('uq_redemptions_teller_idempotency_key')),
    info={'append_only': True}
    )
    with op.batch_alter_table('redemptions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_redemptions_branch_business_day'), ['branch', 'business_day'], unique=False)

    op.create_table('stock_changes',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('branch', sa.String(length=32), nullable=False),
    sa.Column('sku', sa.String(length=32), nullable=False),
    sa.Column('delta', sa.Integer(), nullable=False),
    sa.Column('quantity_after', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('redemption_id', sa.String(length=36), nullable=True),
    sa.ForeignKeyConstraint(['branch'], ['branches.code'], name=op.f('fk_stock_changes_branch_branches')),
    sa.ForeignKeyConstraint(['sku'], ['gifts.sku'], name=op.f('fk_stock_changes_sku_gifts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stock_changes')),
    info={'append_only': True}
    )
    with op.batch_alter_table('stock_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stock_changes_branch_sku_id'), ['branch', 'sku', 'id'], unique=False)

    op.create_table('redemption_reversals',
    sa.Column('redemption_id', sa.String(length=36), nullable=False),
    sa.Column('supervisor', sa.String(length=64), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ledger_seq', sa.BigInteger(), nullable=False),
    sa.Column('balance_after', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['redemption_id'], ['redemptions.id'], name=op.f('fk_redemption_reversals_redemption_id_redemptions')),
    sa.PrimaryKeyConstraint('redemption_id', name=op.f('pk_redemption_reversals')),
    info={'append_only': True}
    )
    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('redemption_id', sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column('branch', sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.drop_column('branch')
        batch_op.drop_column('redemption_id')

    op.drop_table('redemption_reversals')
    with op.batch_alter_table('stock_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stock_changes_branch_sku_id'))

    op.drop_table('stock_changes')
    with op.batch_alter_table('redemptions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_redemptions_branch_business_day'))

    op.drop_table('redemptions')
    with op.batch_alter_table('outbound_notices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbound_notices_published_at_id'))

    op.drop_table('outbound_notices')
    op.drop_table('branch_stock')
    op.drop_table('gifts')
