"""rules, simulations, decisions and the audit trail

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 11:43:48.117021
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table('audit_trail',
    sa.Column('seq', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('subject', sa.String(length=128), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('document_sha256', sa.String(length=64), nullable=True),
    sa.Column('details', sa.JSON(), nullable=True),
    sa.Column('entry_hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_audit_trail')),
    info={'append_only': True}
    )
    op.create_table('rulesets',
    sa.Column('version', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('document', sa.Text(), nullable=False),
    sa.Column('document_sha256', sa.String(length=64), nullable=False),
    sa.Column('author', sa.String(length=64), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('replaces', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['replaces'], ['rulesets.version'], name=op.f('fk_rulesets_replaces_rulesets')),
    sa.PrimaryKeyConstraint('version', name=op.f('pk_rulesets')),
    sa.UniqueConstraint('replaces', name=op.f('uq_rulesets_replaces')),
    info={'append_only': True}
    )
    op.create_table('decisions',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('resident', sa.String(length=64), nullable=False),
    sa.Column('as_of', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ledger_seq', sa.BigInteger(), nullable=False),
    sa.Column('ruleset_version', sa.Integer(), nullable=False),
    sa.Column('ruleset_sha256', sa.String(length=64), nullable=False),
    sa.Column('asked_by', sa.String(length=64), nullable=False),
    sa.Column('asked_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('answer', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['ruleset_version'], ['rulesets.version'], name=op.f('fk_decisions_ruleset_version_rulesets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_decisions')),
    info={'append_only': True}
    )
    with op.batch_alter_table('decisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_decisions_resident_asked_at'), ['resident', 'asked_at'], unique=False)

    op.create_table('simulations',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('baseline_version', sa.Integer(), nullable=True),
    sa.Column('requested_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('as_of', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ledger_seq', sa.BigInteger(), nullable=False),
    sa.Column('figures', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['baseline_version'], ['rulesets.version'], name=op.f('fk_simulations_baseline_version_rulesets')),
    sa.ForeignKeyConstraint(['version'], ['rulesets.version'], name=op.f('fk_simulations_version_rulesets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_simulations')),
    info={'append_only': True}
    )
    with op.batch_alter_table('simulations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_simulations_version'), ['version'], unique=False)

    op.create_table('ruleset_transitions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('effective_from', sa.DateTime(timezone=True), nullable=True),
    sa.Column('simulation_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.CheckConstraint("action IN ('submitted', 'approved', 'rejected')", name=op.f('ck_ruleset_transitions_known_action')),
    sa.ForeignKeyConstraint(['simulation_id'], ['simulations.id'], name=op.f('fk_ruleset_transitions_simulation_id_simulations')),
    sa.ForeignKeyConstraint(['version'], ['rulesets.version'], name=op.f('fk_ruleset_transitions_version_rulesets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ruleset_transitions')),
    sa.UniqueConstraint('version', 'action', name=op.f('uq_ruleset_transitions_version_action')),
    info={'append_only': True}
    )
    with op.batch_alter_table('ruleset_transitions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ruleset_transitions_version'), ['version'], unique=False)


def downgrade() -> None:

    with op.batch_alter_table('ruleset_transitions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ruleset_transitions_version'))

    op.drop_table('ruleset_transitions')
    with op.batch_alter_table('simulations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_simulations_version'))

    op.drop_table('simulations')
    with op.batch_alter_table('decisions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_decisions_resident_asked_at'))

    op.drop_table('decisions')
    op.drop_table('rulesets')
    op.drop_table('audit_trail')

