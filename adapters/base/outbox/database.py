"""Opening an adapter's outbox: the database, its tables brought up to date, and its stores,
on their own (each call its own transaction) or together in one transaction."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from adapters.base.outbox.events import EventOutbox
from adapters.base.outbox.imports import ImportRecords
from adapters.base.outbox.migrate import upgrade_outbox
from adapters.base.outbox.notices import NOTICE_DELIVERED, NOTICE_REFUSED, NoticeJournal
from adapters.base.outbox.quarantine import Quarantine
from adapters.base.outbox.receipts import ReceiptStore
from adapters.base.outbox.residents import ResidentDirectory
from adapters.base.outbox.rows import Clock, Connect, utc_now
from adapters.base.outbox.state import AdapterState
from ledger.runtime.database import make_engine


def default_outbox_url(platform: str) -> str:
    return f"sqlite:///var/adapter-{platform}.sqlite3"


@dataclass(frozen=True)
class OutboxStores:
    """Every store of one outbox, over the same connections."""

    events: EventOutbox
    state: AdapterState
    quarantine: Quarantine
    residents: ResidentDirectory
    notices: NoticeJournal
    imports: ImportRecords
    receipts: ReceiptStore

    @classmethod
    def over(cls, connect: Connect, clock: Clock, schema: str | None) -> OutboxStores:
        return cls(EventOutbox(connect, clock, schema), AdapterState(connect),
                   Quarantine(connect, clock), ResidentDirectory(connect),
                   NoticeJournal(connect, clock), ImportRecords(connect, clock),
                   ReceiptStore(connect, clock))


class Outbox:
    """The outbox of one platform's adapter. Opening it creates the database (and on
    PostgreSQL the schema `adapter_{platform}`) if need be and upgrades its tables; each store
    used from here runs every call in a transaction of its own."""

    def __init__(self, url: str, platform: str, clock: Clock = utc_now) -> None:
        self.platform = platform
        self._clock = clock
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
        self._upgrade()
        stores = OutboxStores.over(self._engine.begin, clock, self._schema)
        self.events = stores.events
        self.state = stores.state
        self.quarantine = stores.quarantine
        self.residents = stores.residents
        self.notices = stores.notices
        self.imports = stores.imports
        self.receipts = stores.receipts

    def close(self) -> None:
        self._engine.dispose()

    def _upgrade(self) -> None:
        # One transaction (BEGIN IMMEDIATE on SQLite): two processes opening a new outbox at
        # once create it once.
        with self._engine.begin() as connection:
            if self._schema is not None:
                # Our own name (a registered platform code), never input.
                connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{self._schema}"'))
            upgrade_outbox(connection, self._schema)

    @contextmanager
    def transaction(self) -> Iterator[OutboxStores]:
        """The stores in one write transaction (BEGIN IMMEDIATE on SQLite; the events table
        locked on PostgreSQL once a seq is taken), so that seqs are gap-free however many
        threads accept records, and a call's records, quarantine and cursor commit together."""
        with self._engine.begin() as connection:
            yield OutboxStores.over(lambda: nullcontext(connection), self._clock, self._schema)

    def status(self) -> dict[str, int]:
        """What `pointsledger adapter status` shows, read in one transaction."""
        with self.transaction() as stores:
            last_seq = stores.events.last_seq()
            through = stores.events.published_through()
            quarantined = stores.quarantine.count()
            outcomes = stores.notices.outcome_counts()
        return {"backlog": last_seq - through, "last_seq": last_seq,
                "published_through": through, "quarantined": quarantined,
                "notices_delivered": outcomes[NOTICE_DELIVERED],
                "notices_refused": outcomes[NOTICE_REFUSED]}
