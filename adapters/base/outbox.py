"""The adapter's local outbox: signed events waiting for (or done with) the broker, the
quarantine, the adapter's own state (a feed's cursor, files already imported), the sealed ID
numbers of the residents it has seen, and the journal of the ledger's notices it handled.

Its own small database: a SQLite file by default (`var/adapter-{platform}.sqlite3`), or a
PostgreSQL schema of its own (`adapter_{platform}`) when the outbox URL points to PostgreSQL.
The tables are created on first use (`create_all`, which also adds to an existing outbox a table
a newer version brought, such as `import_progress`): the outbox is the adapter's private working
store, not the ledger, and holds nothing that cannot be re-derived from the platform's records
once they were published.

Publishing goes strictly in `seq` order, so "sent" is one watermark: every row with
`seq <= published_through` was confirmed by the broker.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
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
    delete,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.engine import make_url

from ledger.contract.personal_data import mask_id_numbers
from ledger.runtime.database import UTCDateTime, make_engine

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

# A file being imported in chunks (adapters.base.file_import): where the next chunk starts and
# what the chunks committed so far came to; the row goes once the file is in imported_sources.
import_progress = Table(
    "import_progress", metadata,
    Column("digest", String(64), primary_key=True),
    Column("name", String(512), nullable=False),
    Column("resume_offset", BigInteger, nullable=False),
    Column("resume_line", BigInteger, nullable=False),
    Column("report", Text, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

imported_sources = Table(
    "imported_sources", metadata,
    Column("digest", String(64), primary_key=True),
    Column("name", String(512), nullable=False),
    Column("imported_at", UTCDateTime, nullable=False),
    Column("report", Text, nullable=False),
)

# pseudonym → the resident's ID number, sealed (adapters.base.residents): to deliver notices.
residents = Table(
    "residents", metadata,
    Column("resident", String(64), primary_key=True),
    Column("sealed_id_number", LargeBinary, nullable=False),
)

# Every notice taken from the ledger's outbound queue: delivered (once per notice_id) or refused
# with its reason, raw bytes and headers kept.
notices = Table(
    "notices", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("notice_id", String(64), nullable=True, index=True),
    Column("received_at", UTCDateTime, nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("reason", String(32), nullable=True),
    Column("detail", String(512), nullable=False),
    Column("body", LargeBinary, nullable=False),
    Column("headers", Text, nullable=False),
)

PUBLISHED_THROUGH = "published_through"
TEXT_LENGTH_MAX = 512
# Bound the IN lists (SQLite limits the parameters of one statement).
RESIDENTS_PER_QUERY_MAX = 500
NOTICE_DELIVERED = "delivered"
NOTICE_REFUSED = "refused"


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
class ImportProgress:
    """How far the import of a file (known by its digest) got: the next chunk starts at byte
    `resume_offset`, line `resume_line`; `report` is what the committed chunks came to."""

    digest: str
    resume_offset: int
    resume_line: int
    report: dict[str, Any]


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
        """Masked again: a row kept by an older version was masked less thoroughly."""
        return {"id": self.id, "received_at": self.received_at.isoformat(),
                "location": mask_id_numbers(self.location), "reason": self.reason,
                "detail": mask_id_numbers(self.detail), "record": mask_id_numbers(self.record)}


@dataclass(frozen=True)
class RefusedNotice:
    id: int
    notice_id: str | None
    received_at: datetime
    reason: str
    detail: str
    body: bytes

    def document(self) -> dict[str, Any]:
        """As a quarantine listing line: the notice is the platform's record of nothing, so its
        location is the notice itself."""
        return {"id": self.id, "received_at": self.received_at.isoformat(),
                "location": mask_id_numbers(f"notice {self.notice_id or '(unreadable)'}"),
                "reason": self.reason, "detail": mask_id_numbers(self.detail),
                "record": mask_id_numbers(self.body.decode("utf-8", errors="replace"))}


def default_outbox_url(platform: str) -> str:
    return f"sqlite:///var/adapter-{platform}.sqlite3"


class Outbox:
    def __init__(self, url: str, platform: str) -> None:
        self.platform = platform
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite" and parsed.database:
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        self._schema = None if parsed.get_backend_name() == "sqlite" else f"adapter_{platform}"
        # A driver's error quotes the statement's values; the failure is logged, and the values
        # are records of residents.
        options: dict[str, Any] = {"hide_parameters": True}
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
            yield OutboxTransaction(connection, self._schema)

    # -- reads -----------------------------------------------------------------------------

    def pending(self, limit: int, after_seq: int | None = None) -> list[PendingEvent]:
        """Unpublished events, oldest first; with `after_seq`, those after it (the pump reads
        ahead of what is confirmed)."""
        with self._engine.connect() as connection:
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
        with self._engine.connect() as connection:
            return _published_through(connection)

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
            outcomes: dict[str, int] = {
                outcome: count for outcome, count in connection.execute(
                    select(notices.c.outcome, func.count()).group_by(notices.c.outcome))}
        return {"backlog": int(last_seq or 0) - through, "last_seq": int(last_seq or 0),
                "published_through": through, "quarantined": int(quarantined or 0),
                "notices_delivered": int(outcomes.get(NOTICE_DELIVERED, 0)),
                "notices_refused": int(outcomes.get(NOTICE_REFUSED, 0))}

    def quarantined(self) -> list[QuarantinedRecord]:
        with self._engine.connect() as connection:
            rows = connection.execute(select(quarantine).order_by(quarantine.c.id)).all()
        return [QuarantinedRecord(row.id, row.received_at, row.location, row.reason, row.detail,
                                  row.record) for row in rows]

    def refused_notices(self) -> list[RefusedNotice]:
        with self._engine.connect() as connection:
            rows = connection.execute(select(notices).where(notices.c.outcome == NOTICE_REFUSED)
                                      .order_by(notices.c.id)).all()
        return [RefusedNotice(row.id, row.notice_id, row.received_at, row.reason or "",
                              row.detail, bytes(row.body)) for row in rows]

    def sealed_id_number(self, resident: str) -> bytes | None:
        with self._engine.connect() as connection:
            sealed = connection.scalar(select(residents.c.sealed_id_number)
                                       .where(residents.c.resident == resident))
        return None if sealed is None else bytes(sealed)

    def notice_delivered(self, notice_id: str) -> bool:
        with self._engine.connect() as connection:
            found = connection.scalar(
                select(notices.c.id).where(notices.c.notice_id == notice_id,
                                           notices.c.outcome == NOTICE_DELIVERED).limit(1))
        return found is not None

    def record_notice(self, notice_id: str | None, outcome: str, reason: str | None,
                      detail: str, body: bytes, headers: dict[str, str]) -> None:
        with self._engine.begin() as connection:
            connection.execute(insert(notices).values(
                notice_id=notice_id, received_at=datetime.now(UTC), outcome=outcome,
                reason=reason, detail=detail[:512], body=body,
                headers=json.dumps(headers, sort_keys=True)))

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

    def import_progress(self, digest: str) -> ImportProgress | None:
        """How far an interrupted import of that file got, if it was begun and not finished."""
        with self._engine.connect() as connection:
            row = connection.execute(select(import_progress)
                                     .where(import_progress.c.digest == digest)).first()
        return None if row is None else ImportProgress(row.digest, row.resume_offset,
                                                       row.resume_line, json.loads(row.report))


class OutboxTransaction:
    def __init__(self, connection: Connection, schema: str | None) -> None:
        self._connection = connection
        self._schema = schema  # PostgreSQL only; None on SQLite

    def by_native_id(self, native_id: str) -> StoredEvent | None:
        row = self._connection.execute(
            select(outbox_events.c.seq, outbox_events.c.event_id, outbox_events.c.native_id,
                   outbox_events.c.type, outbox_events.c.resident, outbox_events.c.category,
                   outbox_events.c.points, outbox_events.c.fingerprint)
            .where(outbox_events.c.native_id == native_id)
        ).first()
        return None if row is None else StoredEvent(*row)

    def next_seq(self) -> int:
        if self._schema is not None:
            # Serializes the appenders of one outbox for the rest of the transaction. Raw SQL
            # is not schema-translated: name the schema (our own name, never input).
            self._connection.execute(
                text(f'LOCK TABLE "{self._schema}".outbox_events IN EXCLUSIVE MODE'))
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
        """Kept with every ID-number-shaped run masked (SPEC §4.5), after cutting to the column's
        length: a cut through a longer run of digits could leave one ID-shaped."""
        self._connection.execute(insert(quarantine).values(
            received_at=datetime.now(UTC),
            location=mask_id_numbers(location[:TEXT_LENGTH_MAX]), reason=reason,
            detail=mask_id_numbers(detail[:TEXT_LENGTH_MAX]), record=mask_id_numbers(record)))

    def set_state(self, name: str, value: str) -> None:
        _set_state(self._connection, name, value)

    def remember_residents(self, id_numbers: Mapping[str, str],
                           seal: Callable[[str, str], bytes]) -> None:
        """Keep the sealed ID number of each resident (pseudonym → ID number) not yet known;
        only those are sealed, and the first seal stays."""
        known: set[str] = set()
        names = list(id_numbers)
        for start in range(0, len(names), RESIDENTS_PER_QUERY_MAX):
            chunk = names[start:start + RESIDENTS_PER_QUERY_MAX]
            known.update(self._connection.scalars(
                select(residents.c.resident).where(residents.c.resident.in_(chunk))))
        new = [{"resident": resident, "sealed_id_number": seal(resident, id_number)}
               for resident, id_number in id_numbers.items() if resident not in known]
        if new:
            self._connection.execute(insert(residents), new)

    def record_import(self, digest: str, name: str, report: dict[str, Any]) -> None:
        """The file is imported: known from now on by its digest; its progress is done with."""
        self._connection.execute(insert(imported_sources).values(
            digest=digest, name=mask_id_numbers(name[:TEXT_LENGTH_MAX]),
            imported_at=datetime.now(UTC),
            report=mask_id_numbers(json.dumps(report, ensure_ascii=False))))
        self._connection.execute(delete(import_progress)
                                 .where(import_progress.c.digest == digest))

    def save_import_progress(self, progress: ImportProgress, name: str) -> None:
        values = {"name": mask_id_numbers(name[:TEXT_LENGTH_MAX]),
                  "resume_offset": progress.resume_offset, "resume_line": progress.resume_line,
                  "report": mask_id_numbers(json.dumps(progress.report, ensure_ascii=False)),
                  "updated_at": datetime.now(UTC)}
        updated = self._connection.execute(update(import_progress)
                                           .where(import_progress.c.digest == progress.digest)
                                           .values(**values))
        if updated.rowcount == 0:
            self._connection.execute(insert(import_progress).values(digest=progress.digest,
                                                                    **values))


def _published_through(connection: Connection) -> int:
    value = connection.scalar(select(adapter_state.c.value)
                              .where(adapter_state.c.name == PUBLISHED_THROUGH))
    return int(value) if value is not None else 0


def _set_state(connection: Connection, name: str, value: str) -> None:
    updated = connection.execute(update(adapter_state).where(adapter_state.c.name == name)
                                 .values(value=value))
    if updated.rowcount == 0:
        connection.execute(insert(adapter_state).values(name=name, value=value))


__all__: Sequence[str] = ("NOTICE_DELIVERED", "NOTICE_REFUSED", "ImportProgress", "Outbox",
                          "OutboxTransaction",
                          "PendingEvent", "QuarantinedRecord", "RefusedNotice", "StoredEvent",
                          "default_outbox_url")
