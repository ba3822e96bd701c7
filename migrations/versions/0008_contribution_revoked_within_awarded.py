"""contribution revoked within awarded: a monthly contribution cell never revokes more than it
awarded

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 08:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# PostgreSQL reads the table once to validate it (a few seconds for a county's worth of cells,
# appends wait); SQLite rebuilds it (batch mode).
NAME = 'ck_monthly_contributions_revoked_within_awarded'


def upgrade() -> None:
    with op.batch_alter_table('monthly_contributions', schema=None) as batch_op:
        batch_op.create_check_constraint(batch_op.f(NAME), 'revoked <= awarded')


def downgrade() -> None:
    with op.batch_alter_table('monthly_contributions', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f(NAME), type_='check')
