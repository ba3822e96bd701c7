"""The ledger's entries, the events it refused, and the projections written with them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from ledger.infra.db.models.base import APPEND_ONLY, Base
from ledger.runtime.database import BigId


class LedgerEntryRow(Base):
    """One ledger entry; `seq` is global and gap-free, `entry_hash` chains it to the previous."""

    __tablename__ = "ledger_entries"
    __table_args__ = (
        UniqueConstraint("platform", "event_id"),
        UniqueConstraint("platform", "platform_seq"),
        # A given award can be revoked once: the database itself enforces already_revoked.
        UniqueConstraint("platform", "revokes"),
        Index(None, "resident", "seq"),
        # The auditor's lists run newest first by seq: a kind or a platform, even a rare one,
        # is read along its own index; a date range's first and last seq come from the
        # (recorded_at, seq) index alone (ledger_read.entries_page).
        Index(None, "kind", "seq"),
        Index(None, "platform", "seq"),
        Index(None, "recorded_at", "seq"),
        APPEND_ONLY,
    )

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(40))
    platform: Mapped[str] = mapped_column(ForeignKey("platforms.code"))
    event_id: Mapped[str | None] = mapped_column(String(64))
    platform_seq: Mapped[int | None] = mapped_column(BigInteger)
    resident: Mapped[str] = mapped_column(String(64))
    category: Mapped[str | None] = mapped_column(String(32))
    points: Mapped[int] = mapped_column(Integer)
    occurred_at: Mapped[datetime]
    recorded_at: Mapped[datetime]
    revokes: Mapped[str | None] = mapped_column(String(64))
    key_id: Mapped[str | None] = mapped_column(String(32))
    body: Mapped[str | None] = mapped_column(Text)
    webhook_timestamp: Mapped[int | None] = mapped_column(BigInteger)
    webhook_signature: Mapped[str | None] = mapped_column(Text)
    # The ledger's own entries (SPEC §6): a redemption at a branch counter, or its reversal.
    redemption_id: Mapped[str | None] = mapped_column(String(36))
    branch: Mapped[str | None] = mapped_column(String(32))
    entry_hash: Mapped[str] = mapped_column(String(64))


class Rejection(Base):
    """A refused input, kept: its bytes (bounded, ID numbers masked), headers and reason."""

    __tablename__ = "rejections"
    __table_args__ = (Index(None, "platform", "event_id"), APPEND_ONLY)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    received_at: Mapped[datetime]
    channel: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(40))
    detail: Mapped[str] = mapped_column(Text)
    errors: Mapped[dict[str, Any] | None]
    platform: Mapped[str | None] = mapped_column(String(64))
    event_id: Mapped[str | None] = mapped_column(String(64))
    # The body as received, with every run shaped like an ID number masked (SPEC §4.5), and the
    # SHA-256 of the bytes as they were, so that the platform can match its own copy.
    body: Mapped[bytes] = mapped_column(LargeBinary)
    body_size: Mapped[int] = mapped_column(Integer)
    body_sha256: Mapped[str | None] = mapped_column(String(64))
    headers: Mapped[dict[str, Any]]


class Balance(Base):
    """Running balance per resident and platform; a projection of ledger_entries."""

    __tablename__ = "balances"

    resident: Mapped[str] = mapped_column(String(64), primary_key=True)
    platform: Mapped[str] = mapped_column(ForeignKey("platforms.code"), primary_key=True)
    earned: Mapped[int] = mapped_column(BigInteger, default=0)
    deducted: Mapped[int] = mapped_column(BigInteger, default=0)
    revoked: Mapped[int] = mapped_column(BigInteger, default=0)
    redeemed: Mapped[int] = mapped_column(BigInteger, default=0)
    spendable: Mapped[int] = mapped_column(BigInteger, default=0)


class MonthlyContribution(Base):
    """Points per resident, platform, category and Asia/Shanghai month (SPEC §6), for the rules.

    A revocation is counted in the month and category of the award it revokes, so a cell never
    revokes more than it awarded (how `ledger.service.projections` keeps that is said there).
    """

    __tablename__ = "monthly_contributions"
    __table_args__ = (CheckConstraint("revoked <= awarded", name="revoked_within_awarded"),)

    resident: Mapped[str] = mapped_column(String(64), primary_key=True)
    platform: Mapped[str] = mapped_column(ForeignKey("platforms.code"), primary_key=True)
    category: Mapped[str] = mapped_column(String(32), primary_key=True)
    month: Mapped[str] = mapped_column(String(7), primary_key=True)  # YYYY-MM
    awarded: Mapped[int] = mapped_column(BigInteger, default=0)
    revoked: Mapped[int] = mapped_column(BigInteger, default=0)
    deducted: Mapped[int] = mapped_column(BigInteger, default=0)
    deductions: Mapped[int] = mapped_column(Integer, default=0)
