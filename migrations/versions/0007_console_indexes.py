"""console indexes: the auditor's lists of entries by kind, platform and dates, newest first

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 07:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# On a large ledger each index takes a while to build (about 20 s per index for 30 million
# entries); the table stays readable meanwhile, appends wait.
INDEXES = (
    ('ix_ledger_entries_kind_seq', ['kind', 'seq']),
    ('ix_ledger_entries_platform_seq', ['platform', 'seq']),
    ('ix_ledger_entries_recorded_at_seq', ['recorded_at', 'seq']),
)


def upgrade() -> None:
    for name, columns in INDEXES:
        op.create_index(name, 'ledger_entries', columns, unique=False)


def downgrade() -> None:
    for name, _ in reversed(INDEXES):
        op.drop_index(name, table_name='ledger_entries')
