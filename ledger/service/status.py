"""`pointsledger status` and the console's status pages (SPEC §15): the facts an operator acts
on, read from the database and the broker, and the problems `ledger.domain.status` finds in
them. A database or broker that cannot be reached is itself the problem reported, never an
exception: a monitoring agent must get its answer (and page somebody) either way."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from ledger.domain.status import LogProgress, Problem, StatusFacts, WitnessLag, problems
from ledger.infra.amqp.queue_depths import queue_depths
from ledger.infra.db.locks import LockHolder, consumer_lock_holder
from ledger.infra.db.models import (
    AuditEvent,
    CheckpointRow,
    LedgerEntryRow,
    OutboundNotice,
    Witness,
)
from ledger.infra.db.tree_store import AUDIT_LOG, LEDGER_LOG
from ledger.runtime.broker import BROKER_ERRORS, describe_broker_error
from ledger.runtime.topology import DEAD_QUEUE, LEDGER_QUEUE, outbound_queue
from ledger.service.checkpoints import LOGS, cosignatures, latest_checkpoint
from ledger.service.platform_seq import platform_overviews
from ledger.service.witnesses import witness_standings


@dataclass(frozen=True)
class Head:
    seq: int
    entry_hash: str | None
    recorded_at: datetime | None


@dataclass(frozen=True)
class WitnessStatus:
    name: str
    last_cosigned_size: int | None
    last_cosigned_at: datetime | None
    waiting_since: datetime | None


@dataclass(frozen=True)
class LogStatus:
    """A verifiable log: its tree's size and its latest checkpoint (None before the first)."""

    log: str
    size: int
    checkpoint_size: int | None
    checkpoint_signed_at: datetime | None
    cosigned_by: list[str]
    oldest_unsigned_at: datetime | None
    witnesses: list[WitnessStatus]


@dataclass(frozen=True)
class PlatformStatus:
    code: str
    name: str  # as registered, for people; the code is what the ledger and its queues know
    last_seq: int
    gaps: list[tuple[int, int]]
    last_recorded_at: datetime | None


@dataclass(frozen=True)
class Status:
    """Everything `status` shows; the database's facts are None when it could not be read, the
    queues' when there is no broker (embedded mode) or it could not be reached."""

    checked_at: datetime
    embedded: bool
    database_reachable: bool
    head: Head | None = None
    logs: list[LogStatus] = field(default_factory=list)
    lock_known: bool = False
    lock_holder: LockHolder | None = None
    queues: dict[str, int | None] | None = None
    notices_pending: int | None = None
    oldest_notice_at: datetime | None = None
    platforms: list[PlatformStatus] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        return not self.problems

    def age_s(self, moment: datetime | None) -> int | None:
        return None if moment is None else int((self.checked_at - moment).total_seconds())

    def as_document(self) -> dict[str, Any]:
        """The one JSON object of `pointsledger status` (described in the README); the
        database's facts are null when it could not be read."""
        read = self.database_reachable
        return {
            "checked_at": self.checked_at.isoformat(),
            "mode": "embedded" if self.embedded else "broker",
            "database": {"reachable": self.database_reachable},
            "head": None if self.head is None else {
                "seq": self.head.seq, "entry_hash": self.head.entry_hash,
                "recorded_at": _time(self.head.recorded_at)},
            "checkpoints": {log.log: self._checkpoint(log) for log in self.logs} if read else None,
            "consumer_lock": self._lock() if read else None,
            "queues": self.queues,
            "notices": {"pending": self.notices_pending,
                        "oldest_age_s": self.age_s(self.oldest_notice_at)} if read else None,
            "platforms": {platform.code: {
                "name": platform.name,
                "last_seq": platform.last_seq,
                "gaps": [[first, last] for first, last in platform.gaps],
                "last_event_age_s": self.age_s(platform.last_recorded_at),
            } for platform in self.platforms} if read else None,
            "witnesses": {log.log: {witness.name: {
                "last_cosigned_size": witness.last_cosigned_size,
                "last_cosigned_age_s": self.age_s(witness.last_cosigned_at),
            } for witness in log.witnesses} for log in self.logs} if read else None,
            "problems": [problem.sentence for problem in self.problems],
        }

    def _checkpoint(self, log: LogStatus) -> dict[str, Any]:
        return {"tree_size": log.size, "size": log.checkpoint_size,
                "signed_at": _time(log.checkpoint_signed_at),
                "age_s": self.age_s(log.checkpoint_signed_at), "cosigned_by": log.cosigned_by}

    def _lock(self) -> dict[str, Any]:
        if not self.lock_known:
            return {"known": False, "holder": None,
                    "why": "SQLite has no consumer lock: who consumes cannot be known"}
        holder = self.lock_holder
        return {"known": True, "holder": None if holder is None else {
            "pid": holder.pid, "application_name": holder.application_name,
            "client_address": holder.client_address}}


def gather_status(sessions: sessionmaker[Session], amqp_url: str | None,
                  now: datetime) -> Status:
    """Read everything and decide what needs a person."""
    unreachable: list[Problem] = []
    try:
        with sessions() as session:
            status = _read_database(session, amqp_url is None, now)
    except DBAPIError as error:
        status = Status(now, amqp_url is None, database_reachable=False)
        unreachable.append(Problem("database_unreachable", {"reason": _first_line(error)}))
    if amqp_url is not None:
        # Without the database the platforms (and so their outbound queues) are unknown, but
        # the ledger's and the dead-letter queue are still worth asking about.
        wanted = [LEDGER_QUEUE, DEAD_QUEUE, *(outbound_queue(p.code) for p in status.platforms)]
        try:
            status = replace(status, queues=queue_depths(amqp_url, wanted))
        except BROKER_ERRORS as error:
            unreachable.append(Problem("broker_unreachable",
                                       {"reason": describe_broker_error(error)}))
    return _decided(status, unreachable)


def _decided(status: Status, unreachable: list[Problem]) -> Status:
    queues = status.queues or {}
    facts = StatusFacts(
        logs=[LogProgress(log.log, log.size, log.checkpoint_size or 0, log.oldest_unsigned_at,
                          [WitnessLag(w.name, w.last_cosigned_size, w.waiting_since)
                           for w in log.witnesses]) for log in status.logs],
        gaps={platform.code: platform.gaps for platform in status.platforms},
        dead_letters=queues.get(DEAD_QUEUE),
        missing_queues=[queue for queue, depth in queues.items() if depth is None],
        notices_pending=status.notices_pending or 0,
        oldest_notice_at=status.oldest_notice_at)
    return replace(status, problems=unreachable + problems(facts, status.checked_at))


def _read_database(session: Session, embedded: bool, now: datetime) -> Status:
    postgresql = session.get_bind().dialect.name == "postgresql"
    head = _head(session)
    pending, oldest = session.execute(
        select(func.count(), func.min(OutboundNotice.created_at))
        .where(OutboundNotice.published_at.is_(None))).one()
    return Status(
        checked_at=now, embedded=embedded, database_reachable=True, head=head,
        logs=[_log_status(session, log, head.seq) for log in LOGS],
        lock_known=postgresql,
        lock_holder=consumer_lock_holder(session) if postgresql else None,
        notices_pending=int(pending), oldest_notice_at=oldest,
        platforms=[PlatformStatus(p.code, p.name, p.last_seq, p.gaps,
                                  _last_recorded(session, p.code))
                   for p in platform_overviews(session)])


def _head(session: Session) -> Head:
    row = session.execute(
        select(LedgerEntryRow.seq, LedgerEntryRow.entry_hash, LedgerEntryRow.recorded_at)
        .order_by(LedgerEntryRow.seq.desc()).limit(1)).first()
    return Head(0, None, None) if row is None else Head(row[0], row[1], row[2])


def _last_recorded(session: Session, platform: str) -> datetime | None:
    # Along the (platform, seq) index: recorded_at only grows with seq.
    return session.scalar(select(LedgerEntryRow.recorded_at)
                          .where(LedgerEntryRow.platform == platform)
                          .order_by(LedgerEntryRow.seq.desc()).limit(1))


def _log_status(session: Session, log: str, ledger_size: int) -> LogStatus:
    size = ledger_size if log == LEDGER_LOG else _audit_size(session)
    latest = latest_checkpoint(session, log)
    signed = 0 if latest is None else latest.size
    return LogStatus(
        log=log, size=size,
        checkpoint_size=None if latest is None else latest.size,
        checkpoint_signed_at=None if latest is None else latest.signed_at,
        cosigned_by=[] if latest is None else sorted(
            cosignature.witness for cosignature in cosignatures(session, latest.id)),
        oldest_unsigned_at=_recorded_at(session, log, signed + 1) if size > signed else None,
        witnesses=_witnesses(session, log, signed))


def _audit_size(session: Session) -> int:
    return session.scalar(select(func.coalesce(func.max(AuditEvent.seq), 0))) or 0


def _recorded_at(session: Session, log: str, seq: int) -> datetime | None:
    if log == AUDIT_LOG:
        return session.scalar(select(AuditEvent.at).where(AuditEvent.seq == seq))
    return session.scalar(select(LedgerEntryRow.recorded_at).where(LedgerEntryRow.seq == seq))


def _witnesses(session: Session, log: str, checkpoint_size: int) -> list[WitnessStatus]:
    """Each witness, and since when it has owed a cosignature: the signing of the first
    checkpoint larger than what it cosigned, or its registration when that came later."""
    added = {name: at for name, at in session.execute(select(Witness.name, Witness.added_at))}
    found = []
    for standing in witness_standings(session, log):
        owed_since = None
        if checkpoint_size and (standing.last_size or 0) < checkpoint_size:
            first_owed = session.scalar(
                select(func.min(CheckpointRow.signed_at))
                .where(CheckpointRow.log == log,
                       CheckpointRow.size > (standing.last_size or 0)))
            owed_since = _later(first_owed, added.get(standing.name))
        found.append(WitnessStatus(standing.name, standing.last_size,
                                   standing.last_cosigned_at, owed_since))
    return found


def _later(*moments: datetime | None) -> datetime | None:
    known = [moment for moment in moments if moment is not None]
    return max(known) if known else None


def _time(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _first_line(error: DBAPIError) -> str:
    """The driver's first line: it never holds the URL's password."""
    text = str(error.orig or error).strip()
    return text.splitlines()[0] if text else type(error).__name__
