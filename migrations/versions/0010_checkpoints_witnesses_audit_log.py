"""checkpoints, witnesses and their cosignatures (SPEC §14); the audit trail's Merkle tree (its
second log), back-filled from the events the trail holds

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 10:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.orm import Session

from ledger.domain.audit import AuditRecord
from ledger.domain.entry import leaf_hash
from ledger.infra.db.tree_store import AUDIT_LOG, TileStore
from ledger.runtime.database import BigId, UTCDateTime
from ledger.runtime.progress import progress_bar

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BACKFILL_CHUNK_EVENTS = 5000
# The audit trail's lock (ledger.service.audit_trail.AUDIT_LOCK_KEY), held to the commit so no
# event is appended meanwhile that the tree would miss.
AUDIT_LOCK_KEY = 0x504C4155

# audit_trail as this revision knows it: the columns of the hashed document, typed as the
# model types them, so each event hashes here exactly as the trail hashed it.
EVENTS = sa.table(
    'audit_trail',
    sa.column('seq', sa.BigInteger), sa.column('at', UTCDateTime()),
    sa.column('actor', sa.String), sa.column('action', sa.String),
    sa.column('subject', sa.String), sa.column('comment', sa.Text),
    sa.column('document_sha256', sa.String), sa.column('details', sa.JSON),
)


def upgrade() -> None:
    op.create_table(
        'checkpoints',
        sa.Column('id', BigId, nullable=False),
        sa.Column('log', sa.String(length=16), nullable=False),
        sa.Column('size', sa.BigInteger(), nullable=False),
        sa.Column('root', sa.LargeBinary(length=32), nullable=False),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('signed_at', UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_checkpoints')),
        sa.UniqueConstraint('log', 'size', name=op.f('uq_checkpoints_log_size')),
        info={'append_only': True},
    )
    op.create_table(
        'witnesses',
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('url', sa.Text(), nullable=False),
        sa.Column('vkey', sa.Text(), nullable=False),
        sa.Column('added_at', UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_witnesses')),
    )
    op.create_table(
        'witness_cosignatures',
        sa.Column('id', BigId, nullable=False),
        sa.Column('checkpoint_id', sa.BigInteger(), nullable=False),
        sa.Column('witness', sa.String(length=64), nullable=False),
        sa.Column('signature_line', sa.Text(), nullable=False),
        sa.Column('cosigned_at', UTCDateTime(), nullable=False),
        sa.Column('received_at', UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['checkpoint_id'], ['checkpoints.id'],
                                name=op.f('fk_witness_cosignatures_checkpoint_id_checkpoints')),
        sa.ForeignKeyConstraint(['witness'], ['witnesses.name'],
                                name=op.f('fk_witness_cosignatures_witness_witnesses')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_witness_cosignatures')),
        sa.UniqueConstraint('checkpoint_id', 'witness',
                            name=op.f('uq_witness_cosignatures_checkpoint_id_witness')),
        info={'append_only': True},
    )
    op.create_index(op.f('ix_witness_cosignatures_witness_checkpoint_id'), 'witness_cosignatures',
                    ['witness', 'checkpoint_id'])
    _backfill_audit_tree(op.get_bind())


def _backfill_audit_tree(connection: sa.Connection) -> None:
    """The audit log's tree over every event already in the trail (gap-free from seq 1)."""
    session = Session(bind=connection)
    if connection.dialect.name == 'postgresql':
        session.execute(sa.text('SELECT pg_advisory_xact_lock(:key)'), {'key': AUDIT_LOCK_KEY})
    store = TileStore(session, AUDIT_LOG)
    # Shown on a terminal only (`db upgrade` by hand on a long trail), never in a log.
    total = connection.scalar(sa.select(sa.func.count()).select_from(EVENTS)) or 0
    size = 0
    with progress_bar('audit events into the Merkle tree') as progress:
        while True:
            rows = connection.execute(
                sa.select(EVENTS).where(EVENTS.c.seq > size).order_by(EVENTS.c.seq)
                .limit(BACKFILL_CHUNK_EVENTS)).all()
            if not rows:
                break
            leaves = []
            for row in rows:
                if row.seq != size + len(leaves) + 1:
                    raise RuntimeError(
                        f"audit event {size + len(leaves) + 1} is missing: the trail is broken "
                        f"(run `pointsledger verify`), so its Merkle tree cannot be built")
                leaves.append(leaf_hash(AuditRecord(**row._mapping).document()))
            store.grow(size, leaves)
            size += len(leaves)
            progress(size, total)
    session.close()


def downgrade() -> None:
    op.drop_index(op.f('ix_witness_cosignatures_witness_checkpoint_id'), table_name='witness_cosignatures')
    op.drop_table('witness_cosignatures')
    op.drop_table('witnesses')
    op.drop_table('checkpoints')
    connection = op.get_bind()
    connection.execute(sa.text("DELETE FROM merkle_tiles WHERE log = 'audit'"))
