"""hardening: compromised keys, users disabled and with passwords, revocable tokens, masked
rejections, two more roles

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 04:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLES_BEFORE = ("admin", "teller", "supervisor", "risk_officer", "auditor", "credit_system")
ROLES_AFTER = (*ROLES_BEFORE, "platform_operator", "monitor")


def _known_role(roles: tuple[str, ...]) -> str:
    return "role IN (" + ", ".join(f"'{role}'" for role in roles) + ")"


def upgrade() -> None:
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table('platform_keys', schema=None) as batch_op:
        batch_op.add_column(sa.Column('compromised_at', sa.DateTime(timezone=True),
                                      nullable=True))

    with op.batch_alter_table('rejections', schema=None) as batch_op:
        batch_op.add_column(sa.Column('body_sha256', sa.String(length=64), nullable=True))

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('platform', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('disabled_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('password_hash', sa.String(length=256), nullable=True))
        batch_op.add_column(sa.Column('last_sign_in_at', sa.DateTime(timezone=True),
                                      nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_users_platform_platforms'), 'platforms',
                                    ['platform'], ['code'])
        batch_op.drop_constraint(batch_op.f('ck_users_known_role'), type_='check')
        batch_op.create_check_constraint('known_role', _known_role(ROLES_AFTER))


def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_users_known_role'), type_='check')
        batch_op.create_check_constraint('known_role', _known_role(ROLES_BEFORE))
        batch_op.drop_constraint(batch_op.f('fk_users_platform_platforms'), type_='foreignkey')
        batch_op.drop_column('last_sign_in_at')
        batch_op.drop_column('password_hash')
        batch_op.drop_column('disabled_at')
        batch_op.drop_column('platform')

    with op.batch_alter_table('rejections', schema=None) as batch_op:
        batch_op.drop_column('body_sha256')

    with op.batch_alter_table('platform_keys', schema=None) as batch_op:
        batch_op.drop_column('compromised_at')

    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_column('last_used_at')
        batch_op.drop_column('revoked_at')
