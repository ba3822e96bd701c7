"""The counter: gifts, stock, redemptions and their reversals, and the notices they send
the platforms."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
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


class Gift(Base):
    """A gift of the catalog (SPEC §9); the same cost in points of any platform."""

    __tablename__ = "gifts"
    __table_args__ = (CheckConstraint("points_cost > 0", name="positive_cost"),)

    sku: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    points_cost: Mapped[int] = mapped_column(Integer)
    # An inactive gift stays in the catalog (its redemptions name it) but cannot be redeemed.
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]


class BranchStock(Base):
    """How many of a gift a branch holds now; every change is a StockChange row."""

    __tablename__ = "branch_stock"
    __table_args__ = (CheckConstraint("quantity >= 0", name="never_negative"),)

    branch: Mapped[str] = mapped_column(ForeignKey("branches.code"), primary_key=True)
    sku: Mapped[str] = mapped_column(ForeignKey("gifts.sku"), primary_key=True)
    quantity: Mapped[int] = mapped_column(Integer)


class StockChange(Base):
    """Who changed a branch's stock of a gift, by how much and why."""

    __tablename__ = "stock_changes"
    __table_args__ = (Index(None, "branch", "sku", "id"), APPEND_ONLY)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    branch: Mapped[str] = mapped_column(ForeignKey("branches.code"))
    sku: Mapped[str] = mapped_column(ForeignKey("gifts.sku"))
    delta: Mapped[int] = mapped_column(Integer)
    quantity_after: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime]
    redemption_id: Mapped[str | None] = mapped_column(String(36))


class Redemption(Base):
    """Points swapped for gifts at a counter (SPEC §9), with the request that asked for it."""

    __tablename__ = "redemptions"
    __table_args__ = (
        UniqueConstraint("branch", "receipt_no"),
        # A retried request (same teller, same Idempotency-Key) finds its first answer here.
        UniqueConstraint("teller", "idempotency_key"),
        Index(None, "branch", "business_day"),
        CheckConstraint("quantity > 0 AND points > 0", name="positive"),
        APPEND_ONLY,
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    branch: Mapped[str] = mapped_column(ForeignKey("branches.code"))
    business_day: Mapped[str] = mapped_column(String(10))  # YYYY-MM-DD, Asia/Shanghai
    receipt_no: Mapped[str] = mapped_column(String(48))
    resident: Mapped[str] = mapped_column(String(64))
    platform: Mapped[str] = mapped_column(ForeignKey("platforms.code"))
    sku: Mapped[str] = mapped_column(ForeignKey("gifts.sku"))
    quantity: Mapped[int] = mapped_column(Integer)
    points: Mapped[int] = mapped_column(Integer)
    balance_after: Mapped[int] = mapped_column(BigInteger)
    teller: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime]
    ledger_seq: Mapped[int] = mapped_column(BigInteger)
    idempotency_key: Mapped[str] = mapped_column(String(128))
    request_sha256: Mapped[str] = mapped_column(String(64))


class RedemptionReversal(Base):
    """A redemption undone by a supervisor of its branch on its business day, once."""

    __tablename__ = "redemption_reversals"
    __table_args__ = (APPEND_ONLY,)

    redemption_id: Mapped[str] = mapped_column(ForeignKey("redemptions.id"), primary_key=True)
    supervisor: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime]
    ledger_seq: Mapped[int] = mapped_column(BigInteger)
    balance_after: Mapped[int] = mapped_column(BigInteger)


class OutboundNotice(Base):
    """A signed notice for a platform, written in the transaction of what it tells (an outbox):
    published to `pointsledger.outbound` later, and marked once the broker confirmed it."""

    __tablename__ = "outbound_notices"
    __table_args__ = (Index(None, "published_at", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    notice_id: Mapped[str] = mapped_column(String(64), unique=True)
    platform: Mapped[str] = mapped_column(ForeignKey("platforms.code"))
    routing_key: Mapped[str] = mapped_column(String(128))
    body: Mapped[bytes] = mapped_column(LargeBinary)
    headers: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]
    published_at: Mapped[datetime | None]
