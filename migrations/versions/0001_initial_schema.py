"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-22 08:04:37.315428
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('branches',
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_branches'))
    )
    op.create_table('platforms',
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('township', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seq', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_platforms'))
    )
    op.create_table('rejections',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.String(length=40), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('errors', sa.JSON(), nullable=True),
    sa.Column('platform', sa.String(length=64), nullable=True),
    sa.Column('event_id', sa.String(length=64), nullable=True),
    sa.Column('body', sa.LargeBinary(), nullable=False),
    sa.Column('body_size', sa.Integer(), nullable=False),
    sa.Column('headers', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rejections')),
    info={'append_only': True}
    )
    with op.batch_alter_table('rejections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rejections_platform_event_id'), ['platform', 'event_id'], unique=False)

    op.create_table('balances',
    sa.Column('resident', sa.String(length=64), nullable=False),
    sa.Column('platform', sa.String(length=32), nullable=False),
    sa.Column('earned', sa.BigInteger(), nullable=False),
    sa.Column('deducted', sa.BigInteger(), nullable=False),
    sa.Column('revoked', sa.BigInteger(), nullable=False),
    sa.Column('redeemed', sa.BigInteger(), nullable=False),
    sa.Column('spendable', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['platform'], ['platforms.code'], name=op.f('fk_balances_platform_platforms')),
    sa.PrimaryKeyConstraint('resident', 'platform', name=op.f('pk_balances'))
    )
    op.create_table('ledger_entries',
    sa.Column('seq', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('platform', sa.String(length=32), nullable=False),
    sa.Column('event_id', sa.String(length=64), nullable=True),
    sa.Column('platform_seq', sa.BigInteger(), nullable=True),
    sa.Column('resident', sa.String(length=64), nullable=False),
    sa.Column('category', sa.String(length=32), nullable=True),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revokes', sa.String(length=64), nullable=True),
    sa.Column('key_id', sa.String(length=32), nullable=True),
    sa.Column('body', sa.Text(), nullable=True),
    sa.Column('webhook_timestamp', sa.BigInteger(), nullable=True),
    sa.Column('webhook_signature', sa.Text(), nullable=True),
    sa.Column('entry_hash', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['platform'], ['platforms.code'], name=op.f('fk_ledger_entries_platform_platforms')),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_ledger_entries')),
    sa.UniqueConstraint('platform', 'event_id', name=op.f('uq_ledger_entries_platform_event_id')),
    sa.UniqueConstraint('platform', 'platform_seq', name=op.f('uq_ledger_entries_platform_platform_seq')),
    sa.UniqueConstraint('platform', 'revokes', name=op.f('uq_ledger_entries_platform_revokes')),
    info={'append_only': True}
    )
    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ledger_entries_resident_seq'), ['resident', 'seq'], unique=False)

    op.create_table('monthly_contributions',
    sa.Column('resident', sa.String(length=64), nullable=False),
    sa.Column('platform', sa.String(length=32), nullable=False),
    sa.Column('category', sa.String(length=32), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('awarded', sa.BigInteger(), nullable=False),
    sa.Column('revoked', sa.BigInteger(), nullable=False),
    sa.Column('deducted', sa.BigInteger(), nullable=False),
    sa.Column('deductions', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['platform'], ['platforms.code'], name=op.f('fk_monthly_contributions_platform_platforms')),
    sa.PrimaryKeyConstraint('resident', 'platform', 'category', 'month', name=op.f('pk_monthly_contributions'))
    )
    op.create_table('platform_keys',
    sa.Column('key_id', sa.String(length=32), nullable=False),
    sa.Column('platform', sa.String(length=32), nullable=False),
    sa.Column('public_key', sa.LargeBinary(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['platform'], ['platforms.code'], name=op.f('fk_platform_keys_platform_platforms')),
    sa.PrimaryKeyConstraint('key_id', name=op.f('pk_platform_keys')),
    sa.UniqueConstraint('public_key', name=op.f('uq_platform_keys_public_key'))
    )
    with op.batch_alter_table('platform_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_platform_keys_platform'), ['platform'], unique=False)

    op.create_table('platform_seq_gaps',
    sa.Column('platform', sa.String(length=32), nullable=False),
    sa.Column('first_seq', sa.BigInteger(), nullable=False),
    sa.Column('last_seq', sa.BigInteger(), nullable=False),
    sa.CheckConstraint('first_seq <= last_seq', name=op.f('ck_platform_seq_gaps_ordered')),
    sa.ForeignKeyConstraint(['platform'], ['platforms.code'], name=op.f('fk_platform_seq_gaps_platform_platforms')),
    sa.PrimaryKeyConstraint('platform', 'first_seq', name=op.f('pk_platform_seq_gaps'))
    )
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.Column('branch', sa.String(length=32), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("role IN ('admin', 'teller', 'supervisor', 'risk_officer', 'auditor', 'credit_system')", name=op.f('ck_users_known_role')),
    sa.ForeignKeyConstraint(['branch'], ['branches.code'], name=op.f('fk_users_branch_branches')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('username', name=op.f('uq_users_username'))
    )
    op.create_table('api_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('secret_sha256', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_api_tokens_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('secret_sha256', name=op.f('uq_api_tokens_secret_sha256'))
    )
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_tokens_user_id'), ['user_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_tokens_user_id'))

    op.drop_table('api_tokens')
    op.drop_table('users')
    op.drop_table('platform_seq_gaps')
    with op.batch_alter_table('platform_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_platform_keys_platform'))

    op.drop_table('platform_keys')
    op.drop_table('monthly_contributions')
    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ledger_entries_resident_seq'))

    op.drop_table('ledger_entries')
    op.drop_table('balances')
    with op.batch_alter_table('rejections', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rejections_platform_event_id'))

    op.drop_table('rejections')
    op.drop_table('platforms')
    op.drop_table('branches')
