"""What the console keeps on the server: sessions and long jobs (SPEC §13)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from ledger.infra.db.models.base import Base


class ConsoleSession(Base):
    """A signed-in console session, kept on the server (SPEC §13): the browser holds only a
    random secret whose SHA-256 is the id. A session ends when its user signs out, after
    POINTSLEDGER_CONSOLE_IDLE_S without a request or POINTSLEDGER_CONSOLE_MAX_S after sign-in,
    and when its user is disabled or given another role, branch or platform (it remembers the
    ones it began with)."""

    __tablename__ = "console_sessions"
    __table_args__ = (Index(None, "user_id", "ended_at"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    role: Mapped[str] = mapped_column(String(32))
    branch: Mapped[str | None] = mapped_column(String(32))
    platform: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    end_reason: Mapped[str | None] = mapped_column(String(32))
    # What the pages keep between requests: the CSRF secret, the language chosen.
    data: Mapped[dict[str, Any]]


class ConsoleJob(Base):
    """Long work asked for on a console page (a verification, a simulation), run in the
    background of the process that was asked, its progress kept here so that whichever process
    serves the next page can show it (SPEC §13)."""

    __tablename__ = "console_jobs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    requested_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    done: Mapped[int] = mapped_column(BigInteger, default=0)
    total: Mapped[int | None] = mapped_column(BigInteger)  # None: not known (yet)
    finished_at: Mapped[datetime | None]
    outcome: Mapped[str] = mapped_column(String(16))  # running, done, failed
    # What the work came to, for the page that shows it; None until it is done.
    result: Mapped[dict[str, Any] | None]
    error: Mapped[str | None] = mapped_column(Text)
