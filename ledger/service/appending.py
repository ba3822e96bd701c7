"""Stage two of ingestion: decide each verified event against the ledger and append, in bulk.

One transaction per batch: the chain head is locked, the history the batch needs is read in a
few queries, every event is decided in order (so duplicates and revocations inside one batch are
seen), then entries, rejections and projections are written together. Either all of it is
committed or none of it: a consumer acks only after that commit.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import BigInteger, String, any_, bindparam, insert, or_, select, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from ledger.contract.categories import EntryKind, EventType
from ledger.contract.personal_data import mask_id_numbers, mask_id_numbers_in_bytes
from ledger.domain.entry import GENESIS_HASH, LedgerEntry, next_entry_hash
from ledger.domain.outcomes import Outcome, Reason, Status
from ledger.infra.db.bulk import insert_rows
from ledger.infra.db.models import LedgerEntryRow, Rejection
from ledger.service.platform_seq import record_platform_seqs
from ledger.service.projections import ProjectionDeltas
from ledger.service.verification import Delivery, VerifiedEvent

# Any constant works: it only has to be the same for every appender of this database.
CHAIN_LOCK_KEY = 0x504C4C47  # "PLLG"
REJECTED_BODY_KEPT_MAX_BYTES = 64 * 1024
# Masked before it is cut, with room for the longest ID number written with JSON escapes and
# separators, so that a number straddling the cut is masked whole.
REJECTED_BODY_MASKED_MAX_BYTES = REJECTED_BODY_KEPT_MAX_BYTES + 256
HEADER_VALUE_KEPT_MAX_CHARS = 1024
HEADERS_KEPT_MAX = 32
IN_CLAUSE_SIZE_MAX = 1000


@dataclass(frozen=True)
class _Known:
    """What the batch needs to know of an entry already in the ledger (or appended just now)."""

    seq: int
    entry_hash: str
    kind: str
    event_id: str | None
    platform_seq: int | None
    resident: str
    category: str | None
    points: int
    occurred_at: datetime
    body: str | None


@dataclass(frozen=True)
class Head:
    seq: int
    entry_hash: bytes


def lock_chain_head(session: Session) -> Head:
    """Serialize appenders and return the last entry's seq and hash."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHAIN_LOCK_KEY})
    # On SQLite every transaction already begins IMMEDIATE, which holds the write lock.
    row = session.execute(
        select(LedgerEntryRow.seq, LedgerEntryRow.entry_hash)
        .order_by(LedgerEntryRow.seq.desc()).limit(1)
    ).first()
    if row is None:
        return Head(0, GENESIS_HASH)
    return Head(row.seq, bytes.fromhex(row.entry_hash))


class BatchAppender:
    """Decides and appends one batch inside the caller's transaction."""

    def __init__(self, session: Session, now: datetime) -> None:
        self._session = session
        self._now = now
        self._head: Head | None = None
        self._by_event_id: dict[tuple[str, str], _Known] = {}
        self._by_platform_seq: dict[tuple[str, int], _Known] = {}
        self._revoked: set[tuple[str, str]] = set()
        self._entry_rows: list[dict[str, Any]] = []
        self._rejection_rows: list[dict[str, Any]] = []
        self._recorded_seqs: defaultdict[str, list[int]] = defaultdict(list)
        self._deltas = ProjectionDeltas.empty()

    def decide(self, items: Sequence[VerifiedEvent | tuple[Delivery, Outcome]]) -> list[Outcome]:
        """Outcomes in input order; items already refused in stage one are only kept."""
        events = [item for item in items if isinstance(item, VerifiedEvent)]
        if events:
            # Lock before reading history, so no other appender can slip in between.
            self._head = lock_chain_head(self._session)
            self._preload(events)
        outcomes: list[Outcome] = []
        for item in items:
            if isinstance(item, VerifiedEvent):
                outcome = self._decide_one(item)
                if outcome.status is Status.REJECTED:
                    outcome = self._keep_rejection(item.delivery, outcome)
            else:
                outcome = self._keep_rejection(*item)
            outcomes.append(outcome)
        self._flush()
        return outcomes

    def _preload(self, events: list[VerifiedEvent]) -> None:
        event_ids: defaultdict[str, set[str]] = defaultdict(set)
        platform_seqs: defaultdict[str, set[int]] = defaultdict(set)
        targets: defaultdict[str, set[str]] = defaultdict(set)
        for event in events:
            envelope = event.envelope
            event_ids[envelope.platform].add(envelope.event_id)
            platform_seqs[envelope.platform].add(envelope.seq)
            if envelope.revokes is not None:
                event_ids[envelope.platform].add(envelope.revokes)
                targets[envelope.platform].add(envelope.revokes)
        table = LedgerEntryRow
        if self._session.get_bind().dialect.name == "postgresql":
            self._preload_with_arrays(event_ids, platform_seqs, targets)
            return
        for platform, ids in event_ids.items():
            for chunk in _chunks(ids):
                self._remember(platform, self._session.execute(
                    _known_columns().where(table.platform == platform, table.event_id.in_(chunk))
                ))
        for platform, seqs in platform_seqs.items():
            for seq_chunk in _chunks(seqs):
                self._remember(platform, self._session.execute(
                    _known_columns().where(table.platform == platform,
                                           table.platform_seq.in_(seq_chunk))
                ))
        for platform, revoked_ids in targets.items():
            for chunk in _chunks(revoked_ids):
                self._revoked.update((platform, revoked) for revoked in self._session.scalars(
                    select(table.revokes).where(table.platform == platform,
                                                table.revokes.in_(chunk))
                ) if revoked is not None)

    def _preload_with_arrays(self, event_ids: dict[str, set[str]],
                             platform_seqs: dict[str, set[int]],
                             targets: dict[str, set[str]]) -> None:
        """The same reads on PostgreSQL: one array parameter instead of a bind per value (a
        thousand-value IN list costs more to send and parse than the lookup itself)."""
        table = LedgerEntryRow
        for platform, ids in event_ids.items():
            self._remember(platform, self._session.execute(
                _known_columns().where(
                    table.platform == platform,
                    or_(table.event_id == any_(_text_array(sorted(ids))),
                        table.platform_seq == any_(_bigint_array(sorted(platform_seqs[platform]))))
                )))
        for platform, revoked_ids in targets.items():
            self._revoked.update((platform, revoked) for revoked in self._session.scalars(
                select(table.revokes).where(table.platform == platform,
                                            table.revokes == any_(_text_array(sorted(revoked_ids))))
            ) if revoked is not None)

    def _remember(self, platform: str, rows: Iterable[Any]) -> None:
        for row in rows:
            known = _Known(*row)
            if known.event_id is not None:
                self._by_event_id[(platform, known.event_id)] = known
            if known.platform_seq is not None:
                self._by_platform_seq[(platform, known.platform_seq)] = known

    def _decide_one(self, event: VerifiedEvent) -> Outcome:
        envelope = event.envelope
        body = event.delivery.body.decode("utf-8")
        platform = envelope.platform

        def refuse(reason: Reason, detail: str) -> Outcome:
            return Outcome.rejected(reason, detail, platform=platform, event_id=envelope.event_id)

        existing = self._by_event_id.get((platform, envelope.event_id))
        if existing is not None:
            if existing.body == body:
                return Outcome(Status.DUPLICATE, "this event is already recorded", platform,
                               envelope.event_id, seq=existing.seq,
                               entry_hash=existing.entry_hash)
            return refuse(Reason.ID_CONFLICT,
                          f"event_id {envelope.event_id!r} is already recorded with another body")
        holder = self._by_platform_seq.get((platform, envelope.seq))
        if holder is not None:
            return refuse(Reason.SEQ_CONFLICT,
                          f"seq {envelope.seq} of {platform} belongs to event {holder.event_id!r}")

        category: str = envelope.category
        occurred_at = envelope.occurred_at
        if envelope.type is EventType.REVOKED:
            assert envelope.revokes is not None
            target = self._by_event_id.get((platform, envelope.revokes))
            if target is None:
                return refuse(Reason.UNKNOWN_REVOCATION_TARGET,
                              f"no recorded event {envelope.revokes!r} of {platform} to revoke")
            mismatch = _revocation_mismatch(target, envelope.resident, envelope.points,
                                            envelope.category)
            if mismatch:
                return refuse(Reason.REVOCATION_MISMATCH, mismatch)
            if (platform, envelope.revokes) in self._revoked:
                return refuse(Reason.ALREADY_REVOKED,
                              f"event {envelope.revokes!r} is already revoked")
            # A revocation counts against the award's own month and category (SPEC §6).
            assert target.category is not None
            category, occurred_at = target.category, target.occurred_at
            self._revoked.add((platform, envelope.revokes))

        kind = EntryKind(envelope.type.value)
        assert self._head is not None
        entry = LedgerEntry(
            seq=self._head.seq + 1,
            kind=kind.value,
            platform=platform,
            event_id=envelope.event_id,
            platform_seq=envelope.seq,
            resident=envelope.resident,
            category=envelope.category.value,
            points=kind.delta_sign * envelope.points,
            occurred_at=envelope.occurred_at,
            recorded_at=self._now,
            revokes=envelope.revokes,
            key_id=event.key_id,
            body=body,
            webhook_timestamp=event.webhook_timestamp,
            webhook_signature=event.webhook_signature,
        )
        entry_hash = next_entry_hash(self._head.entry_hash, entry)
        self._head = Head(entry.seq, entry_hash)
        self._entry_rows.append({**entry.__dict__, "entry_hash": entry_hash.hex()})
        known = _Known(entry.seq, entry_hash.hex(), entry.kind, entry.event_id, entry.platform_seq,
                       entry.resident, entry.category, entry.points, entry.occurred_at, body)
        self._by_event_id[(platform, envelope.event_id)] = known
        self._by_platform_seq[(platform, envelope.seq)] = known
        self._recorded_seqs[platform].append(envelope.seq)
        self._deltas.add(kind, envelope.resident, platform, envelope.points, category, occurred_at)
        return Outcome(Status.RECORDED, "recorded", platform, envelope.event_id, seq=entry.seq,
                       entry_hash=entry_hash.hex())

    def _keep_rejection(self, delivery: Delivery, outcome: Outcome) -> Outcome:
        """Keep a refused event, masked first (SPEC §4.5): a refused body may hold anything, and
        a rejection, like an entry, is never erased. The refusal as answered is masked too."""
        assert outcome.reason is not None
        masked = masked_outcome(outcome)
        body = mask_id_numbers_in_bytes(delivery.body[:REJECTED_BODY_MASKED_MAX_BYTES])
        self._rejection_rows.append({
            "received_at": self._now,
            "channel": delivery.channel,
            "reason": outcome.reason.value,
            "detail": masked.detail,
            "errors": masked.errors or None,
            "platform": masked.platform,
            "event_id": masked.event_id,
            "body": body[:REJECTED_BODY_KEPT_MAX_BYTES],
            "body_size": len(delivery.body),
            "body_sha256": hashlib.sha256(delivery.body).hexdigest(),
            "headers": {mask_id_numbers(name): mask_id_numbers(value)
                        for name, value in bounded_headers(delivery.headers).items()},
        })
        return masked

    def _flush(self) -> None:
        session = self._session
        insert_rows(session, LedgerEntryRow.__table__, self._entry_rows)  # type: ignore[arg-type]
        if self._rejection_rows:
            session.execute(insert(Rejection), self._rejection_rows)
        for platform, seqs in self._recorded_seqs.items():
            record_platform_seqs(session, platform, seqs)
        self._deltas.write(session)


def _known_columns() -> Any:
    table = LedgerEntryRow
    return select(table.seq, table.entry_hash, table.kind, table.event_id, table.platform_seq,
                  table.resident, table.category, table.points, table.occurred_at, table.body)


def _text_array(values: list[str]) -> Any:
    return bindparam(None, values, type_=postgresql.ARRAY(String))


def _bigint_array(values: list[int]) -> Any:
    return bindparam(None, values, type_=postgresql.ARRAY(BigInteger))


def _revocation_mismatch(target: _Known, resident: str, points: int, category: str) -> str:
    """Why a revocation does not restate the award it withdraws, or '' when it does."""
    if target.kind != EntryKind.AWARDED:
        return f"event {target.event_id!r} is a {target.kind}, not an award"
    if target.resident != resident:
        return "the revocation names another resident than the award"
    if target.points != points:
        return f"the award was {target.points} points, the revocation says {points}"
    if target.category != category:
        return f"the award was in {target.category}, the revocation says {category}"
    return ""


def masked_outcome(outcome: Outcome) -> Outcome:
    """The outcome with every ID-number-shaped run in what it quotes masked: the detail, the
    field errors (their names come from the body too) and the identity read from the body."""
    def mask(text: str | None) -> str | None:
        return None if text is None else mask_id_numbers(text)

    return replace(outcome, detail=mask_id_numbers(outcome.detail),
                   platform=mask(outcome.platform), event_id=mask(outcome.event_id),
                   errors={mask_id_numbers(field): mask_id_numbers(problem)
                           for field, problem in outcome.errors.items()})


def bounded_headers(headers: Any) -> dict[str, str]:
    kept: dict[str, str] = {}
    for name, value in list(headers.items())[:HEADERS_KEPT_MAX]:
        kept[str(name).lower()[:HEADER_VALUE_KEPT_MAX_CHARS]] = str(value)[
            :HEADER_VALUE_KEPT_MAX_CHARS]
    return kept


_Item = TypeVar("_Item")


def _chunks(values: Iterable[_Item]) -> Iterable[list[_Item]]:
    items = list(values)
    for start in range(0, len(items), IN_CLAUSE_SIZE_MAX):
        yield items[start:start + IN_CLAUSE_SIZE_MAX]
