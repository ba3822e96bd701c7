"""The relational model. Tables marked `append_only` are guarded by database triggers."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from ledger.runtime.database import BigId, UTCDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

APPEND_ONLY = {"info": {"append_only": True}}

ROLES = ("admin", "teller", "supervisor", "risk_officer", "auditor", "credit_system",
         "platform_operator", "monitor")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(), dict[str, Any]: JSON()}


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


def append_only_tables() -> list[str]:
    return sorted(
        table.name for table in Base.metadata.sorted_tables if table.info.get("append_only")
    )
