"""The signed events waiting for the broker, or done with it.

Publishing goes strictly in `seq` order, so "sent" is one watermark: every row with
`seq <= published_through` was confirmed by the broker. Each move of the watermark is also
kept with its time (table `published_marks`), which tells when an event was published.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import Connection, func, insert, select, text

from adapters.base.outbox.rows import Clock, Connect, insert_new
from adapters.base.outbox.state import set_state_value, state_value
from adapters.base.outbox.tables import outbox_events, published_marks

PUBLISHED_THROUGH = "published_through"


@dataclass(frozen=True)
class StoredEvent:
    seq: int
    event_id: str
    native_id: str
    type: str
    resident: str
    category: str
    points: int
    fingerprint: str


@dataclass(frozen=True)
class PendingEvent:
    seq: int
    event_id: str
    routing_key: str
    body: bytes
    headers: dict[str, str]


class EventOutbox:
    def __init__(self, connect: Connect, clock: Clock, schema: str | None) -> None:
        self._connect = connect
        self._clock = clock
        self._schema = schema  # PostgreSQL only; None on SQLite

    def pending(self, limit: int, after_seq: int | None = None) -> list[PendingEvent]:
        """Unpublished events, oldest first; with `after_seq`, those after it (the pump reads
        ahead of what is confirmed)."""
        with self._connect() as connection:
            through = _published_through(connection) if after_seq is None else after_seq
            rows = connection.execute(
                select(outbox_events.c.seq, outbox_events.c.event_id,
                       outbox_events.c.routing_key, outbox_events.c.body,
                       outbox_events.c.headers)
                .where(outbox_events.c.seq > through)
                .order_by(outbox_events.c.seq).limit(limit)
            ).all()
        return [PendingEvent(row.seq, row.event_id, row.routing_key, bytes(row.body),
                             json.loads(row.headers)) for row in rows]

    def published_through(self) -> int:
        with self._connect() as connection:
            return _published_through(connection)

    def mark_published(self, through_seq: int) -> None:
        """Every event up to `through_seq` is confirmed by the broker, now; the watermark never
        moves back."""
        with self._connect() as connection:
            if through_seq > _published_through(connection):
                set_state_value(connection, PUBLISHED_THROUGH, str(through_seq))
                # After a restore the watermark moves up again over marks it passed before:
                # those events went out the first time.
                insert_new(connection, published_marks,
                           {"through_seq": through_seq, "published_at": self._clock()})

    def last_seq(self) -> int:
        with self._connect() as connection:
            return _last_seq(connection)

    def backlog(self) -> int:
        """Events stored and not yet confirmed by the broker."""
        with self._connect() as connection:
            return _last_seq(connection) - _published_through(connection)

    def by_native_id(self, native_id: str) -> StoredEvent | None:
        with self._connect() as connection:
            row = connection.execute(
                select(outbox_events.c.seq, outbox_events.c.event_id, outbox_events.c.native_id,
                       outbox_events.c.type, outbox_events.c.resident,
                       outbox_events.c.category, outbox_events.c.points,
                       outbox_events.c.fingerprint)
                .where(outbox_events.c.native_id == native_id)
            ).first()
        return None if row is None else StoredEvent(*row)

    def next_seq(self) -> int:
        """Inside a transaction: the seq the next event takes, gap-free however many threads
        accept records (BEGIN IMMEDIATE on SQLite; the table locked on PostgreSQL)."""
        with self._connect() as connection:
            if self._schema is not None:
                # Serializes the appenders of one outbox for the rest of the transaction. Raw
                # SQL is not schema-translated: name the schema (our own name, never input).
                connection.execute(
                    text(f'LOCK TABLE "{self._schema}".outbox_events IN EXCLUSIVE MODE'))
            return _last_seq(connection) + 1

    def add(self, stored: StoredEvent, routing_key: str, body: bytes,
            headers: dict[str, str]) -> None:
        with self._connect() as connection:
            connection.execute(insert(outbox_events).values(
                seq=stored.seq, event_id=stored.event_id, native_id=stored.native_id,
                type=stored.type, resident=stored.resident, category=stored.category,
                points=stored.points, fingerprint=stored.fingerprint, routing_key=routing_key,
                body=body, headers=json.dumps(headers, sort_keys=True),
                accepted_at=self._clock()))


def _published_through(connection: Connection) -> int:
    value = state_value(connection, PUBLISHED_THROUGH)
    return int(value) if value is not None else 0


def _last_seq(connection: Connection) -> int:
    return int(connection.scalar(select(func.coalesce(func.max(outbox_events.c.seq), 0))) or 0)
