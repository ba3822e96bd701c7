"""merkle tiles: the ledger's Merkle tree as C2SP hash tiles (SPEC §14), back-filled from the
entries an existing ledger holds

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.orm import Session

from ledger.domain.entry import LedgerEntry, entry_leaf_hash
from ledger.infra.db.locks import lock_chain
from ledger.infra.db.tree_store import LEDGER_LOG, TileStore
from ledger.runtime.database import UTCDateTime
from ledger.runtime.progress import progress_bar

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Entries read, hashed and added to the tree at a time (bodies are at most 8 KiB); a test sets
# fewer through the Alembic config's attributes, to cross chunks with a small ledger.
BACKFILL_CHUNK_ENTRIES = 5000
CHUNK_ATTRIBUTE = 'merkle_backfill_chunk_entries'

# ledger_entries as this revision knows it: the columns of the hashed document (SPEC §6), typed
# as the models type them, so each entry hashes here exactly as the ledger hashed it.
ENTRIES = sa.table(
    'ledger_entries',
    sa.column('seq', sa.BigInteger), sa.column('kind', sa.String),
    sa.column('platform', sa.String), sa.column('resident', sa.String),
    sa.column('points', sa.Integer), sa.column('occurred_at', UTCDateTime()),
    sa.column('recorded_at', UTCDateTime()), sa.column('event_id', sa.String),
    sa.column('platform_seq', sa.BigInteger), sa.column('category', sa.String),
    sa.column('revokes', sa.String), sa.column('key_id', sa.String),
    sa.column('body', sa.Text), sa.column('webhook_timestamp', sa.BigInteger),
    sa.column('webhook_signature', sa.Text), sa.column('redemption_id', sa.String),
    sa.column('branch', sa.String),
)


def upgrade() -> None:
    op.create_table(
        'merkle_tiles',
        sa.Column('log', sa.String(length=16), nullable=False),
        sa.Column('level', sa.SmallInteger(), nullable=False),
        sa.Column('index', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('hashes', sa.LargeBinary(), nullable=False),
        sa.CheckConstraint('length(hashes) BETWEEN 32 AND 8192 AND length(hashes) % 32 = 0',
                           name=op.f('ck_merkle_tiles_whole_hashes')),
        sa.PrimaryKeyConstraint('log', 'level', 'index', name=op.f('pk_merkle_tiles')),
    )
    connection = op.get_bind()
    if connection.dialect.name == 'postgresql':
        # Hashes do not compress: store long tiles out of line without trying.
        op.execute('ALTER TABLE merkle_tiles ALTER COLUMN hashes SET STORAGE EXTERNAL')
    _backfill(connection)


def _backfill(connection: sa.Connection) -> None:
    """The tree of every entry already appended, grown a chunk at a time as appends grow it.
    Entries are gap-free from seq 1 (SPEC §6); a gap stops the migration, naming it.

    The chain lock is held to the commit, so no appender of the code before this revision adds
    an entry the tree would miss meanwhile; one that appends after it leaves the tree behind
    the chain, and the next append of this code refuses to go on (TreeOutOfStep)."""
    chunk = int(op.get_context().config.attributes.get(CHUNK_ATTRIBUTE, BACKFILL_CHUNK_ENTRIES))
    session = Session(bind=connection)
    lock_chain(session)
    store = TileStore(session, LEDGER_LOG)
    # Shown on a terminal only (`db upgrade` by hand on a large ledger), never in a log.
    total = connection.scalar(sa.select(sa.func.count()).select_from(ENTRIES)) or 0
    size = 0
    with progress_bar('ledger entries into the Merkle tree') as progress:
        while True:
            rows = connection.execute(
                sa.select(ENTRIES).where(ENTRIES.c.seq > size).order_by(ENTRIES.c.seq)
                .limit(chunk)).all()
            if not rows:
                break
            leaf_hashes = []
            for row in rows:
                if row.seq != size + len(leaf_hashes) + 1:
                    raise RuntimeError(
                        f"ledger entry {size + len(leaf_hashes) + 1} is missing: the chain is "
                        f"broken (run `pointsledger verify`), so its Merkle tree cannot be built")
                leaf_hashes.append(entry_leaf_hash(LedgerEntry(**row._mapping)))
            store.grow(size, leaf_hashes)
            size += len(leaf_hashes)
            progress(size, total)
    session.close()


def downgrade() -> None:
    op.drop_table('merkle_tiles')
