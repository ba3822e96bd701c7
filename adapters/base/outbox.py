"""The adapter's local outbox: signed events waiting for (or done with) the broker, the
quarantine, and the adapter's own state (a feed's cursor, files already imported).

Its own small database: a SQLite file by default (`var/adapter-{platform}.sqlite3`), or a
PostgreSQL schema of its own (`adapter_{platform}`) when the outbox URL points to PostgreSQL.
The tables are created on first use (`create_all`): the outbox is the adapter's private working
store, not the ledger, and holds nothing that cannot be re-derived from the platform's records
once they were published.

Publishing goes strictly in `seq` order, so "sent" is one watermark: every row with
`seq <= published_through` was confirmed by the broker.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Engine,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.engine import make_url

from ledger.infra.db.engine import make_engine
from ledger.infra.db.types import UTCDateTime

metadata = MetaData()

outbox_events = Table(
    "outbox_events", metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("event_id", String(64), nullable=False, unique=True),
    Column("native_id", String(128), nullable=False, unique=True),
    Column("type", String(32), nullable=False),
    Column("resident", String(64), nullable=False),
    Column("category", String(32), nullable=False),
    Column("points", Integer, nullable=False),
    # What decides whether a re-received record is the same one (a retry) or another (a conflict).
    Column("fingerprint", String(64), nullable=False),
    Column("routing_key", String(128), nullable=False),
    Column("body", LargeBinary, nullable=False),
    Column("headers", Text, nullable=False),
    Column("accepted_at", UTCDateTime, nullable=False),
)

quarantine = Table(
    "quarantine", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("received_at", UTCDateTime, nullable=False),
    Column("location", String(512), nullable=False),
    Column("reason", String(64), nullable=False),
    Column("detail", String(512), nullable=False),
    Column("record", Text, nullable=False),
)

adapter_state = Table(
    "adapter_state", metadata,
    Column("name", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

imported_sources = Table(
    "imported_sources", metadata,
    Column("digest", String(64), primary_key=True),
    Column("name", String(512), nullable=False),
    Column("imported_at", UTCDateTime, nullable=False),
    Column("report", Text, nullable=False),
)

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


@dataclass(frozen=True)
class QuarantinedRecord:
    id: int
    received_at: datetime
    location: str
    reason: str
    detail: str
    record: str

    def document(self) -> dict[str, Any]:
        return {"id": self.id, "received_at": self.received_at.isoformat(),
                "location": self.location, "reason": self.reason, "detail": self.detail,
                "record": self.record}


def default_outbox_url(platform: str) -> str:
    return f"sqlite:///var/adapter-{platform}.sqlite3"


class Outbox:
    def __init__(self, url: str, platform: str) -> None:
        self.platform = platform
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite" and parsed.database:
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        self._schema = None if parsed.get_backend_name() == "sqlite" else f"adapter_{platform}"
        options: dict[str, Any] = {}
        if self._schema is not None:
            options["execution_options"] = {"schema_translate_map": {None: self._schema}}
        self._engine: Engine = make_engine(url, **options)
        self._create()

    def close(self) -> None:
        self._engine.dispose()

    def _create(self) -> None:
        with self._engine.begin() as connection:
            if self._schema is not None:
                # Our own name (a registered platform code), never input.
                connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{self._schema}"'))
            metadata.create_all(connection)

    @contextmanager
    def transaction(self) -> Iterator[OutboxTransaction]:
        """One write transaction (BEGIN IMMEDIATE on SQLite; the seq counter row is locked on
        PostgreSQL), so that seqs are gap-free however many threads accept records."""
        with self._engine.begin() as connection:
            yield OutboxTransaction(connection, self._schema is not None)

    # -- reads -----------------------------------------------------------------------------

    def pending(self, limit: int) -> list[PendingEvent]:
        """Unpublished events, oldest first."""
        with self._engine.connect() as connection:
            through = _published_through(connection)
            rows = connection.execute(
                select(outbox_events.c.seq, outbox_events.c.event_id,
                       outbox_events.c.routing_key, outbox_events.c.body,
                       outbox_events.c.headers)
                .where(outbox_events.c.seq > through)
                .order_by(outbox_events.c.seq).limit(limit)
            ).all()
        return [PendingEvent(row.seq, row.event_id, row.routing_key, bytes(row.body),
                             json.loads(row.headers)) for row in rows]

    def mark_published(self, through_seq: int) -> None:
        """Every event up to `through_seq` is confirmed by the broker."""
        with self._engine.begin() as connection:
            current = _published_through(connection)
            if through_seq > current:
                _set_state(connection, PUBLISHED_THROUGH, str(through_seq))

    def status(self) -> dict[str, int]:
        with self._engine.connect() as connection:
            last_seq = connection.scalar(select(func.coalesce(func.max(outbox_events.c.seq), 0)))
            through = _published_through(connection)
            quarantined = connection.scalar(select(func.count()).select_from(quarantine))
        return {"backlog": int(last_seq or 0) - through, "last_seq": int(last_seq or 0),
                "published_through": through, "quarantined": int(quarantined or 0)}

    def quarantined(self) -> list[QuarantinedRecord]:
        with self._engine.connect() as connection:
            rows = connection.execute(select(quarantine).order_by(quarantine.c.id)).all()
        return [QuarantinedRecord(row.id, row.received_at, row.location, row.reason, row.detail,
                                  row.record) for row in rows]

    def state(self, name: str) -> str | None:
        with self._engine.connect() as connection:
            return connection.scalar(select(adapter_state.c.value)
                                     .where(adapter_state.c.name == name))

    def import_report(self, digest: str) -> dict[str, Any] | None:
        """The report of a source (a file) already imported, by its content digest."""
        with self._engine.connect() as connection:
            report = connection.scalar(select(imported_sources.c.report)
                                       .where(imported_sources.c.digest == digest))
        return None if report is None else dict(json.loads(report))


class OutboxTransaction:
    def __init__(self, connection: Connection, postgres: bool) -> None:
        self._connection = connection
        self._postgres = postgres

    def by_native_id(self, native_id: str) -> StoredEvent | None:
        row = self._connection.execute(
            select(outbox_events.c.seq, outbox_events.c.event_id, outbox_events.c.native_id,
                   outbox_events.c.type, outbox_events.c.resident, outbox_events.c.category,
                   outbox_events.c.points, outbox_events.c.fingerprint)
            .where(outbox_events.c.native_id == native_id)
        ).first()
        return None if row is None else StoredEvent(*row)

    def next_seq(self) -> int:
        if self._postgres:
            # Serializes the appenders of one outbox for the rest of the transaction.
            self._connection.execute(text("LOCK TABLE outbox_events IN EXCLUSIVE MODE"))
        last = self._connection.scalar(select(func.coalesce(func.max(outbox_events.c.seq), 0)))
        return int(last or 0) + 1

    def add(self, stored: StoredEvent, routing_key: str, body: bytes,
            headers: dict[str, str]) -> None:
        self._connection.execute(insert(outbox_events).values(
            seq=stored.seq, event_id=stored.event_id, native_id=stored.native_id,
            type=stored.type, resident=stored.resident, category=stored.category,
            points=stored.points, fingerprint=stored.fingerprint, routing_key=routing_key,
            body=body, headers=json.dumps(headers, sort_keys=True),
            accepted_at=datetime.now(UTC)))

    def quarantine(self, location: str, reason: str, detail: str, record: str) -> None:
        self._connection.execute(insert(quarantine).values(
            received_at=datetime.now(UTC), location=location[:512], reason=reason,
            detail=detail[:512], record=record))

    def set_state(self, name: str, value: str) -> None:
        _set_state(self._connection, name, value)

    def record_import(self, digest: str, name: str, report: dict[str, Any]) -> None:
        self._connection.execute(insert(imported_sources).values(
            digest=digest, name=name[:512], imported_at=datetime.now(UTC),
            report=json.dumps(report, ensure_ascii=False)))


def _published_through(connection: Connection) -> int:
    value = connection.scalar(select(adapter_state.c.value)
                              .where(adapter_state.c.name == PUBLISHED_THROUGH))
    return int(value) if value is not None else 0


def _set_state(connection: Connection, name: str, value: str) -> None:
    updated = connection.execute(update(adapter_state).where(adapter_state.c.name == name)
                                 .values(value=value))
    if updated.rowcount == 0:
        connection.execute(insert(adapter_state).values(name=name, value=value))


__all__: Sequence[str] = ("Outbox", "OutboxTransaction", "PendingEvent", "QuarantinedRecord",
                          "StoredEvent", "default_outbox_url")
