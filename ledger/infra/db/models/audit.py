"""The audit trail: who changed what, chained like the ledger."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Index,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from ledger.infra.db.models.base import APPEND_ONLY, Base


class AuditEvent(Base):
    """The audit trail: who did what to rules (and, later, stock and redemptions), when and why.

    Hash-chained exactly like the ledger (SPEC §6), over the document `GET /api/v1/audit`
    returns without `entry_hash`.
    """

    __tablename__ = "audit_trail"
    # The console's lock-out counts a username's recent failed sign-ins here.
    __table_args__ = (Index(None, "subject", "action", "at"), APPEND_ONLY)

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(128))
    comment: Mapped[str] = mapped_column(Text)
    document_sha256: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any] | None]
    entry_hash: Mapped[str] = mapped_column(String(64))
