"""The audit trail: append an event in the caller's transaction, read it, verify its chain.

Appenders are serialized on the chain head (an advisory lock on PostgreSQL; on SQLite every
transaction already holds the write lock), exactly as ledger appenders are. A use case that
decides from state it reads must call `lock_audit_trail` before reading it, so that two
officers acting at once are decided one after the other.
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from ledger.contract.merkle import Frontier, root_from_stored
from ledger.domain.audit import AuditRecord
from ledger.domain.entry import GENESIS_HASH, chain_hash, leaf_hash
from ledger.infra.db.models import AuditEvent
from ledger.infra.db.tree_store import AUDIT_LOG, TileStore, TreeHashMissing
from ledger.runtime.progress import ProgressCallback
from ledger.service.chain_audit import ChainFault
from ledger.service.paging import Keyset, Page, SessionScope, key_ordered_batches, read_page

# Any constant works, as long as it differs from the ledger's chain lock.
AUDIT_LOCK_KEY = 0x504C4155  # "PLAU"
VERIFY_READ_BATCH_SIZE = 2000


@dataclass(frozen=True)
class AuditHead:
    seq: int
    entry_hash: bytes


def lock_audit_trail(session: Session) -> AuditHead:
    """Serialize with every other audited change, and return the trail's last seq and hash."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": AUDIT_LOCK_KEY})
    row = session.execute(select(AuditEvent.seq, AuditEvent.entry_hash)
                          .order_by(AuditEvent.seq.desc()).limit(1)).first()
    if row is None:
        return AuditHead(0, GENESIS_HASH)
    return AuditHead(row.seq, bytes.fromhex(row.entry_hash))


def append_audit(session: Session, at: datetime, actor: str, action: str, subject: str,
                 comment: str, document_sha256: str | None = None,
                 details: dict[str, Any] | None = None) -> AuditEvent:
    """Add one event at the head of the trail and of its Merkle tree (the audit log of SPEC
    §14), inside the caller's transaction."""
    head = lock_audit_trail(session)
    record = AuditRecord(head.seq + 1, at, actor, action, subject, comment, document_sha256,
                         details)
    leaf = leaf_hash(record.document())
    row = AuditEvent(seq=record.seq, at=at, actor=actor, action=action, subject=subject,
                     comment=comment, document_sha256=document_sha256, details=details,
                     entry_hash=chain_hash(head.entry_hash, leaf).hex())
    TileStore(session, AUDIT_LOG).grow(head.seq, [leaf])
    session.add(row)
    session.flush()
    return row


def record_of(row: AuditEvent) -> AuditRecord:
    return AuditRecord(row.seq, row.at, row.actor, row.action, row.subject, row.comment,
                       row.document_sha256, row.details)


def audit_document(row: AuditEvent) -> dict[str, Any]:
    """What `GET /api/v1/audit` shows of one event: its hashed document and its entry_hash."""
    return {**record_of(row).document(), "entry_hash": row.entry_hash}


@dataclass(frozen=True)
class AuditFilter:
    """Which events a reader of the trail asks for; None leaves a field unfiltered."""

    subject: str | None = None
    # An action ("ruleset.approved"), or the family before its dot ("ruleset").
    action: str | None = None


def audit_page(session: Session, keyset: Keyset,
               filters: AuditFilter = AuditFilter()) -> Page[AuditEvent]:
    """One page of the trail in seq order (or newest first), filtered."""
    statement: Select[AuditEvent] = select(AuditEvent)
    if filters.subject is not None:
        statement = statement.where(AuditEvent.subject == filters.subject)
    if filters.action is not None:
        statement = statement.where(
            (AuditEvent.action == filters.action)
            | AuditEvent.action.startswith(filters.action + ".", autoescape=True))
    return read_page(session, statement, AuditEvent.seq, keyset)


def audit_event_count(session: Session) -> int:
    """The trail's head seq, which is its number of events (its seq is gap-free from 1)."""
    return session.scalar(select(func.coalesce(func.max(AuditEvent.seq), 0))) or 0


@dataclass(frozen=True)
class AuditReport:
    events: int
    first_bad_seq: int | None = None
    problem: str = ""
    fault: ChainFault | None = None

    @property
    def intact(self) -> bool:
        return self.first_bad_seq is None


def verify_audit_trail(session: Session,
                       progress: ProgressCallback | None = None) -> AuditReport:
    """Recompute the trail's chain, in the caller's session; name the first event that does
    not match."""
    return _verify(lambda: nullcontext(session), progress)


def verify_audit_trail_in_steps(sessions: sessionmaker[Session],
                                progress: ProgressCallback | None = None) -> AuditReport:
    """The same, each batch read in a transaction of its own (see `audit_chain_in_steps`)."""
    return _verify(sessions, progress)


def _verify(scope: SessionScope, progress: ProgressCallback | None) -> AuditReport:
    with scope() as session:
        total = audit_event_count(session)
    previous = GENESIS_HASH
    expected = 1
    tree = Frontier()
    for rows in key_ordered_batches(scope, select(AuditEvent), AuditEvent.seq,
                                    VERIFY_READ_BATCH_SIZE):
        for row in rows:
            if row.seq != expected:
                return AuditReport(expected - 1, expected, f"audit event {expected} is missing",
                                   ChainFault.MISSING)
            leaf = leaf_hash(record_of(row).document())
            computed = chain_hash(previous, leaf)
            if computed.hex() != row.entry_hash:
                return AuditReport(expected - 1, row.seq,
                                   f"audit event {row.seq} does not match its entry_hash",
                                   ChainFault.ALTERED)
            tree.append(leaf)
            previous = computed
            expected += 1
        if progress is not None:
            progress(expected - 1, max(total, expected - 1))
    if progress is not None:
        progress(expected - 1, max(total, expected - 1))
    return _check_audit_tree(scope, tree) or AuditReport(expected - 1)


def _check_audit_tree(scope: SessionScope, tree: Frontier) -> AuditReport | None:
    """The audit log's stored tree gives the root its events give (SPEC §14)."""
    with scope() as session:
        try:
            stored = root_from_stored(tree.size, TileStore(session, AUDIT_LOG).hash_at)
        except TreeHashMissing as error:
            stored, missing = b"", str(error)
        else:
            missing = ""
    if stored == tree.root():
        return None
    why = missing or f"root {stored.hex()} stored, {tree.root().hex()} from the events"
    return AuditReport(tree.size, tree.size,
                       f"the audit log's Merkle tree differs from its events: {why}",
                       ChainFault.TREE)
