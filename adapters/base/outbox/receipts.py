"""The ledger's receipts for the events the adapter published (SPEC §14), and what goes with them:
the events the ledger rejected, the newest checkpoint the adapter verified, and any two
checkpoints of the ledger that contradict each other.

A receipt is written once and never replaced: the first verified proof of an event stays its
evidence, whatever the ledger shows later. Every published event is, at any time, proven (a
receipt), rejected (the ledger said so), or unproven. A watermark (`receipts_settled_through`)
moves past the oldest events that are proven or rejected, so that finding the unproven ones
never walks the whole outbox again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Connection, Select, Table, func, insert, select

from adapters.base.outbox.events import PUBLISHED_THROUGH
from adapters.base.outbox.rows import TEXT_LENGTH_MAX, Clock, Connect, insert_new
from adapters.base.outbox.state import set_state_value, state_value
from adapters.base.outbox.tables import (
    inconsistent_checkpoints,
    ledger_rejections,
    outbox_events,
    published_marks,
    receipts,
)
from ledger.contract.checkpoint import Checkpoint
from ledger.contract.note import split_note

SETTLED_THROUGH = "receipts_settled_through"
KEPT_CHECKPOINT = "ledger_checkpoint"
# "on" when the adapter, as last started, collects receipts; anything else is "off".
COLLECTING = "receipts_collecting"


@dataclass(frozen=True)
class Receipt:
    """An event's inclusion proof in a checkpoint the ledger's log key signed, verified when
    it was kept (adapters.base.receipt_proofs says what it proves)."""

    outbox_seq: int
    event_id: str
    ledger_seq: int
    tree_size: int
    leaf_hash: bytes
    proof_hashes: tuple[bytes, ...]
    checkpoint: str
    proven_at: datetime


@dataclass(frozen=True)
class UnprovenEvent:
    seq: int
    event_id: str


@dataclass(frozen=True)
class Inconsistency:
    kept_size: int
    shown_size: int
    kept_checkpoint: str
    shown_checkpoint: str
    detail: str
    seen_at: datetime

    def sentence(self) -> str:
        return inconsistency_sentence(self.kept_size, self.shown_size)


def inconsistency_sentence(kept_size: int, shown_size: int) -> str:
    return f"the ledger showed inconsistent checkpoints: sizes {kept_size} and {shown_size}"


def checkpoint_of(note: str) -> Checkpoint:
    """The checkpoint of a signed note the adapter verified before keeping it."""
    text, _signatures = split_note(note)
    return Checkpoint.parse(text)


class ReceiptStore:
    def __init__(self, connect: Connect, clock: Clock) -> None:
        self._connect = connect
        self._clock = clock

    def unproven(self, limit: int, after_seq: int = 0) -> list[UnprovenEvent]:
        """Published events with neither a receipt nor a rejection, oldest first, after
        `after_seq` (and after the settled watermark)."""
        with self._connect() as connection:
            start = max(after_seq, _settled_through(connection))
            rows = connection.execute(
                _unsettled(connection, start).with_only_columns(
                    outbox_events.c.seq, outbox_events.c.event_id).limit(limit)).all()
        return [UnprovenEvent(row.seq, row.event_id) for row in rows]

    def keep(self, receipt: Receipt) -> bool:
        """Keep the event's receipt unless it has one already (the first stays). True if kept."""
        with self._connect() as connection:
            return insert_new(connection, receipts, {
                "outbox_seq": receipt.outbox_seq, "event_id": receipt.event_id,
                "ledger_seq": receipt.ledger_seq, "tree_size": receipt.tree_size,
                "leaf_hash": receipt.leaf_hash.hex(),
                "proof_hashes": json.dumps([hash_.hex() for hash_ in receipt.proof_hashes]),
                "checkpoint": receipt.checkpoint, "proven_at": receipt.proven_at})

    def event_at(self, ledger_seq: int) -> str | None:
        """The event whose receipt names that entry of the ledger, if any."""
        with self._connect() as connection:
            event_id: str | None = connection.scalar(
                select(receipts.c.event_id).where(receipts.c.ledger_seq == ledger_seq))
        return event_id

    def receipt(self, outbox_seq: int) -> Receipt | None:
        with self._connect() as connection:
            row = connection.execute(
                select(receipts).where(receipts.c.outbox_seq == outbox_seq)).first()
        if row is None:
            return None
        return Receipt(row.outbox_seq, row.event_id, row.ledger_seq, row.tree_size,
                       bytes.fromhex(row.leaf_hash),
                       tuple(bytes.fromhex(hash_) for hash_ in json.loads(row.proof_hashes)),
                       row.checkpoint, row.proven_at)

    def note_rejected(self, event: UnprovenEvent, reason: str) -> None:
        with self._connect() as connection:
            insert_new(connection, ledger_rejections, {
                "outbox_seq": event.seq, "event_id": event.event_id, "reason": reason[:64],
                "learned_at": self._clock()})

    def advance_settled(self) -> None:
        """Move the watermark past the oldest events that are proven or rejected."""
        with self._connect() as connection:
            settled = _settled_through(connection)
            oldest = connection.scalar(
                _unsettled(connection, settled).with_only_columns(outbox_events.c.seq).limit(1))
            through = _published_through(connection) if oldest is None else int(oldest) - 1
            if through > settled:
                set_state_value(connection, SETTLED_THROUGH, str(through))

    def kept_checkpoint(self) -> str | None:
        """The newest checkpoint of the ledger the adapter verified (its signed note)."""
        with self._connect() as connection:
            return state_value(connection, KEPT_CHECKPOINT)

    def keep_checkpoint(self, note: str) -> None:
        with self._connect() as connection:
            set_state_value(connection, KEPT_CHECKPOINT, note)

    def record_inconsistency(self, kept: str, shown: str, detail: str) -> None:
        """Keep both signed notes as they came, once per pair."""
        with self._connect() as connection:
            known = connection.scalar(select(inconsistent_checkpoints.c.id).where(
                inconsistent_checkpoints.c.kept_checkpoint == kept,
                inconsistent_checkpoints.c.shown_checkpoint == shown).limit(1))
            if known is None:
                connection.execute(insert(inconsistent_checkpoints).values(
                    kept_size=checkpoint_of(kept).size, shown_size=checkpoint_of(shown).size,
                    kept_checkpoint=kept, shown_checkpoint=shown,
                    detail=detail[:TEXT_LENGTH_MAX], seen_at=self._clock()))

    def inconsistencies(self) -> list[Inconsistency]:
        with self._connect() as connection:
            rows = connection.execute(select(inconsistent_checkpoints)
                                      .order_by(inconsistent_checkpoints.c.id)).all()
        return [Inconsistency(row.kept_size, row.shown_size, row.kept_checkpoint,
                              row.shown_checkpoint, row.detail, row.seen_at) for row in rows]

    def set_collecting(self, on: bool) -> None:
        with self._connect() as connection:
            set_state_value(connection, COLLECTING, "on" if on else "off")

    def status(self) -> dict[str, Any] | Literal["off"]:
        """What `pointsledger adapter status` shows under "receipts"."""
        with self._connect() as connection:
            if state_value(connection, COLLECTING) != "on":
                return "off"
            published = _published_through(connection)
            proven = _count(connection, receipts)
            rejected = _count(connection, ledger_rejections)
            oldest = connection.execute(
                _unsettled(connection, _settled_through(connection)).with_only_columns(
                    outbox_events.c.seq, outbox_events.c.event_id).limit(1)).first()
            published_at = None if oldest is None else _published_at(connection, oldest.seq)
            kept = state_value(connection, KEPT_CHECKPOINT)
            first_inconsistency = connection.execute(
                select(inconsistent_checkpoints.c.kept_size, inconsistent_checkpoints.c.shown_size)
                .order_by(inconsistent_checkpoints.c.id).limit(1)).first()
        return {
            "proven": proven, "unproven": published - proven - rejected, "rejected": rejected,
            "oldest_unproven": None if oldest is None else {
                "event_id": oldest.event_id, "seq": oldest.seq,
                "published_at": None if published_at is None else published_at.isoformat()},
            "latest_checkpoint_size": None if kept is None else checkpoint_of(kept).size,
            "inconsistent": None if first_inconsistency is None else inconsistency_sentence(
                first_inconsistency.kept_size, first_inconsistency.shown_size),
        }


def _published_through(connection: Connection) -> int:
    return int(state_value(connection, PUBLISHED_THROUGH) or 0)


def _settled_through(connection: Connection) -> int:
    return int(state_value(connection, SETTLED_THROUGH) or 0)


def _unsettled(connection: Connection, after_seq: int) -> Select[Any]:
    """Published events after `after_seq` with neither a receipt nor a rejection, in seq order
    (a SELECT to give its columns and limit)."""
    return (select(outbox_events.c.seq)
            .outerjoin(receipts, receipts.c.outbox_seq == outbox_events.c.seq)
            .outerjoin(ledger_rejections, ledger_rejections.c.outbox_seq == outbox_events.c.seq)
            .where(outbox_events.c.seq > after_seq,
                   outbox_events.c.seq <= _published_through(connection),
                   receipts.c.outbox_seq.is_(None), ledger_rejections.c.outbox_seq.is_(None))
            .order_by(outbox_events.c.seq))


def _published_at(connection: Connection, seq: int) -> datetime | None:
    """When the broker confirmed the event: the time of the first mark at or after its seq."""
    published_at: datetime | None = connection.scalar(
        select(published_marks.c.published_at).where(published_marks.c.through_seq >= seq)
        .order_by(published_marks.c.through_seq).limit(1))
    return published_at


def _count(connection: Connection, table: Table) -> int:
    return int(connection.scalar(select(func.count()).select_from(table)) or 0)
