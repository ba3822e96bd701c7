"""console sessions kept on the server; the audit trail indexed by subject for lock-outs

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 05:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'console_sessions',
        sa.Column('id', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('role', sa.String(length=32), nullable=False),
        sa.Column('branch', sa.String(length=32), nullable=True),
        sa.Column('platform', sa.String(length=32), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('end_reason', sa.String(length=32), nullable=True),
        sa.Column('data', sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name=op.f('fk_console_sessions_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_console_sessions')),
    )
    op.create_index(op.f('ix_console_sessions_user_id_ended_at'), 'console_sessions',
                    ['user_id', 'ended_at'], unique=False)
    op.create_index(op.f('ix_audit_trail_subject_action_at'), 'audit_trail',
                    ['subject', 'action', 'at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_audit_trail_subject_action_at'), table_name='audit_trail')
    op.drop_index(op.f('ix_console_sessions_user_id_ended_at'), table_name='console_sessions')
    op.drop_table('console_sessions')
