"""Rule set versions, their lifecycle, simulations and the decisions made under them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from ledger.infra.db.models.base import APPEND_ONLY, Base
from ledger.runtime.database import BigId

RULESET_ACTIONS = ("submitted", "approved", "rejected")


class RuleSetVersion(Base):
    """One version of the rule set (SPEC §8), immutable once written: a change is a new version.

    `document` is the RFC 8785 text of the document as the officer wrote it, and
    `document_sha256` its hash. A draft replaced by a newer draft names nothing here: the newer
    version names it in `replaces` (once: a draft is replaced at most once).
    """

    __tablename__ = "rulesets"
    __table_args__ = (UniqueConstraint("replaces"), APPEND_ONLY)

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(200))
    document: Mapped[str] = mapped_column(Text)
    document_sha256: Mapped[str] = mapped_column(String(64))
    author: Mapped[str] = mapped_column(String(64))
    comment: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    replaces: Mapped[int | None] = mapped_column(ForeignKey("rulesets.version"))


class RuleSetTransition(Base):
    """A step of a version's lifecycle. Each step happens at most once per version, which the
    database enforces: two officers approving the same version at once cannot both succeed."""

    __tablename__ = "ruleset_transitions"
    __table_args__ = (
        UniqueConstraint("version", "action"),
        CheckConstraint("action IN (" + ", ".join(f"'{action}'" for action in RULESET_ACTIONS)
                        + ")", name="known_action"),
        APPEND_ONLY,
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    version: Mapped[int] = mapped_column(ForeignKey("rulesets.version"), index=True)
    action: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime]
    comment: Mapped[str] = mapped_column(Text)
    # For an approval: when the version takes effect, and the simulation the approver relied on.
    effective_from: Mapped[datetime | None]
    simulation_id: Mapped[int | None] = mapped_column(ForeignKey("simulations.id"))


class Simulation(Base):
    """A version's impact on every resident against the version active when it ran."""

    __tablename__ = "simulations"
    __table_args__ = (APPEND_ONLY,)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    version: Mapped[int] = mapped_column(ForeignKey("rulesets.version"), index=True)
    # None: no version was active (every resident's terms were 0 before).
    baseline_version: Mapped[int | None] = mapped_column(ForeignKey("rulesets.version"))
    requested_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    as_of: Mapped[datetime]
    ledger_seq: Mapped[int] = mapped_column(BigInteger)
    figures: Mapped[dict[str, Any]]


class Decision(Base):
    """A credit-terms answer as it was given, with the ledger seq it read (SPEC §8)."""

    __tablename__ = "decisions"
    __table_args__ = (Index(None, "resident", "asked_at"), APPEND_ONLY)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    resident: Mapped[str] = mapped_column(String(64))
    as_of: Mapped[datetime]
    ledger_seq: Mapped[int] = mapped_column(BigInteger)
    ruleset_version: Mapped[int] = mapped_column(ForeignKey("rulesets.version"))
    ruleset_sha256: Mapped[str] = mapped_column(String(64))
    asked_by: Mapped[str] = mapped_column(String(64))
    asked_at: Mapped[datetime]
    answer: Mapped[dict[str, Any]]
