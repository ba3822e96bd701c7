"""Branches, users and their API tokens (SPEC §12)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from ledger.domain.roles import ROLES
from ledger.infra.db.models.base import Base


class Branch(Base):
    __tablename__ = "branches"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(
            "role IN (" + ", ".join(f"'{role}'" for role in ROLES) + ")", name="known_role"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(32))
    branch: Mapped[str | None] = mapped_column(ForeignKey("branches.code"))
    # The platform a platform_operator reads, as a branch is a teller's.
    platform: Mapped[str | None] = mapped_column(ForeignKey("platforms.code"))
    created_at: Mapped[datetime]
    # Users are never deleted (their names stand in the audit trail); a disabled one is refused.
    disabled_at: Mapped[datetime | None]
    # A memory-hard hash of the console password (argon2id, PHC string), None: no password.
    password_hash: Mapped[str | None] = mapped_column(String(256))
    last_sign_in_at: Mapped[datetime | None]


class ApiToken(Base):
    """A bearer token, stored only as the SHA-256 of its secret part."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    secret_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    # Written at most once a minute per token, so that reads do not all become writes.
    last_used_at: Mapped[datetime | None]
