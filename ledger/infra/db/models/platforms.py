"""Platforms, their keys and the gaps in what they sent."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    LargeBinary,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from ledger.infra.db.models.base import Base


class Platform(Base):
    __tablename__ = "platforms"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    township: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    # Highest platform seq recorded; gaps below it live in platform_seq_gaps.
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)


class PlatformSeqGap(Base):
    """A run of platform seq numbers not (yet) recorded below the platform's last_seq."""

    __tablename__ = "platform_seq_gaps"
    __table_args__ = (CheckConstraint("first_seq <= last_seq", name="ordered"),)

    platform: Mapped[str] = mapped_column(ForeignKey("platforms.code"), primary_key=True)
    first_seq: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    last_seq: Mapped[int] = mapped_column(BigInteger)


class PlatformKey(Base):
    __tablename__ = "platform_keys"

    key_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    platform: Mapped[str] = mapped_column(ForeignKey("platforms.code"), index=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    created_at: Mapped[datetime]
    # When the key was revoked (SPEC §3). A retired key still signs its backlog: signatures
    # timestamped before this moment count until the grace after it has passed.
    revoked_at: Mapped[datetime | None]
    # When the key was declared compromised: from then on nothing it signed is accepted,
    # whatever the signature's timestamp claims (a leaked key can backdate it).
    compromised_at: Mapped[datetime | None]
