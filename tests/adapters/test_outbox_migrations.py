"""An adapter's outbox has migrations of its own, with its own version table: a new outbox is
created by them, an outbox made before they existed (by `metadata.create_all`) is adopted and
upgraded in place with its rows, and the tables they make are the ones the stores use."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, insert, inspect, text

from adapters.base.outbox.database import Outbox
from adapters.base.outbox.events import PUBLISHED_THROUGH
from adapters.base.outbox.imports import ImportProgress
from adapters.base.outbox.migrate import VERSION_TABLE
from adapters.base.outbox.notices import NOTICE_DELIVERED
from adapters.base.outbox.tables import adapter_state, metadata
from ledger.runtime.database import make_engine

PLATFORM = "lijiayuan"
HEAD = "0004"
BEFORE_MIGRATIONS = Path(__file__).parent / "fixtures" / "outbox_before_migrations.sql"
MOMENT = datetime(2026, 12, 1, 8, 30, tzinfo=UTC)
# A row of each table, as the outbox of the version before migrations wrote it.
OLD_ROWS = """
INSERT INTO outbox_events VALUES (1, 'lijiayuan:L1', 'L1', 'points.awarded', 'r1', 'volunteer',
    5, 'f1', 'lijiayuan.points.awarded', X'7B7D', '{}', '2026-11-30 10:00:00.000000');
INSERT INTO outbox_events VALUES (2, 'lijiayuan:L2', 'L2', 'points.awarded', 'r1', 'volunteer',
    3, 'f2', 'lijiayuan.points.awarded', X'7B7D', '{}', '2026-11-30 10:00:01.000000');
INSERT INTO adapter_state VALUES ('published_through', '1');
INSERT INTO adapter_state VALUES ('cursor', 'sealed:v1:abc');
INSERT INTO quarantine VALUES (1, '2026-11-30 10:00:02.000000', 'request 1', 'bad_date',
    'in the future', '{}');
INSERT INTO imported_sources VALUES ('d1', 'export.csv', '2026-11-30 10:00:03.000000',
    '{"file": "export.csv"}');
INSERT INTO residents VALUES ('r1', X'00');
INSERT INTO notices VALUES (1, 'n1', '2026-11-30 10:00:04.000000', 'delivered', NULL, '', X'',
    '{}');
INSERT INTO import_progress VALUES ('d2', 'big.csv', 100, 3, '{"accepted": 2}',
    '2026-11-30 10:00:05.000000');
"""


def outbox_made_before_migrations(path: Path, without: tuple[str, ...] = ()) -> None:
    connection = sqlite3.connect(path, isolation_level=None)
    connection.executescript(BEFORE_MIGRATIONS.read_text(encoding="utf-8"))
    connection.executescript(OLD_ROWS)
    for table in without:  # an outbox of a still older version, without the newer tables
        connection.execute(f"DROP TABLE {table}")
    connection.close()


def version_of(path: Path) -> str:
    connection = sqlite3.connect(path)
    try:
        (version,), = connection.execute(f"SELECT version_num FROM {VERSION_TABLE}").fetchall()
    finally:
        connection.close()
    return str(version)


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "outbox.sqlite3"


@pytest.fixture
def opened(path: Path) -> Iterator[Outbox]:
    outbox = Outbox(f"sqlite:///{path}", PLATFORM, clock=lambda: MOMENT)
    yield outbox
    outbox.close()


def test_a_new_outbox_is_made_by_its_migrations_and_matches_the_stores_tables(
        path: Path, opened: Outbox) -> None:
    engine = create_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={
                "version_table": VERSION_TABLE, "compare_type": True})
            assert compare_metadata(context, metadata) == []
            assert set(inspect(connection).get_table_names()) == {
                *metadata.tables, VERSION_TABLE}
    finally:
        engine.dispose()
    assert version_of(path) == HEAD


def test_an_outbox_made_before_migrations_is_adopted_with_its_rows(path: Path) -> None:
    outbox_made_before_migrations(path)

    outbox = Outbox(f"sqlite:///{path}", PLATFORM)
    try:
        assert version_of(path) == HEAD
        assert outbox.status() == {"backlog": 1, "last_seq": 2, "published_through": 1,
                                   "quarantined": 1, "notices_delivered": 1,
                                   "notices_refused": 0}
        assert [event.seq for event in outbox.events.pending(10)] == [2]
        assert outbox.state.get("cursor") == "sealed:v1:abc"
        assert outbox.imports.report("d1") == {"file": "export.csv"}
        assert outbox.imports.progress("d2") == ImportProgress("d2", 100, 3, {"accepted": 2})
        assert outbox.residents.sealed_id_number("r1") == b"\x00"
        assert outbox.notices.delivered("n1")
        (kept,) = outbox.quarantine.records()
        assert kept.received_at == datetime(2026, 11, 30, 10, 0, 2, tzinfo=UTC)
        outbox.events.mark_published(2)
        assert outbox.status()["backlog"] == 0
    finally:
        outbox.close()


def test_an_older_outbox_without_the_newer_tables_is_adopted_and_upgraded(path: Path) -> None:
    outbox_made_before_migrations(path, without=("import_progress",))

    outbox = Outbox(f"sqlite:///{path}", PLATFORM, clock=lambda: MOMENT)
    try:
        assert version_of(path) == HEAD
        outbox.imports.save_progress(ImportProgress("d3", 10, 2, {"accepted": 1}), "new.csv")
        assert outbox.imports.progress("d3") == ImportProgress("d3", 10, 2, {"accepted": 1})
        assert outbox.status()["last_seq"] == 2
    finally:
        outbox.close()


def test_opening_an_outbox_again_leaves_it_as_it_is(path: Path, opened: Outbox) -> None:
    opened.state.set("cursor", "7")
    again = Outbox(f"sqlite:///{path}", PLATFORM)
    try:
        assert again.state.get("cursor") == "7"
    finally:
        again.close()
    assert version_of(path) == HEAD


def test_a_value_written_again_replaces_the_first(opened: Outbox) -> None:
    opened.state.set("cursor", "1")
    opened.state.set("cursor", "2")
    opened.imports.save_progress(ImportProgress("d", 10, 2, {"accepted": 1}), "a.csv")
    opened.imports.save_progress(ImportProgress("d", 20, 4, {"accepted": 3}), "a.csv")

    assert opened.state.get("cursor") == "2"
    assert opened.imports.progress("d") == ImportProgress("d", 20, 4, {"accepted": 3})


def test_the_published_watermark_never_moves_back(opened: Outbox) -> None:
    opened.events.mark_published(5)
    opened.events.mark_published(3)

    assert opened.events.published_through() == 5
    assert opened.state.get(PUBLISHED_THROUGH) == "5"


def test_the_stores_take_their_time_from_the_outbox_clock(path: Path) -> None:
    now = [MOMENT]
    outbox = Outbox(f"sqlite:///{path}", PLATFORM, clock=lambda: now[0])
    try:
        with outbox.transaction() as stores:
            stores.quarantine.keep("request 1", "bad_date", "in the future", "{}")
        now[0] = MOMENT + timedelta(days=40)
        outbox.notices.record("n1", NOTICE_DELIVERED, None, "", b"{}", {})
        (kept,) = outbox.quarantine.records()
        assert kept.received_at == MOMENT
        connection = sqlite3.connect(path)
        try:
            (received,), = connection.execute("SELECT received_at FROM notices").fetchall()
        finally:
            connection.close()
        assert datetime.fromisoformat(received).replace(tzinfo=UTC) == now[0]
        assert json.loads(json.dumps(outbox.status()))["notices_delivered"] == 1
    finally:
        outbox.close()


def test_an_outbox_on_postgresql_made_before_migrations_is_adopted_in_its_schema(
        postgres_url: str) -> None:
    """Beside the ledger's own tables and version table, which it leaves alone."""
    schema = f"adapter_{PLATFORM}"
    engine = make_engine(postgres_url,
                         execution_options={"schema_translate_map": {None: schema}})
    try:
        with engine.begin() as connection:
            ledger_version = connection.scalar(text("SELECT version_num FROM alembic_version"))
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
            metadata.create_all(connection)  # how an outbox was made before its migrations
            connection.execute(insert(adapter_state).values(name="cursor", value="7"))

        outbox = Outbox(postgres_url, PLATFORM)
        try:
            assert outbox.state.get("cursor") == "7"
            assert outbox.status()["last_seq"] == 0
        finally:
            outbox.close()

        with engine.connect() as connection:
            assert connection.scalar(
                text(f'SELECT version_num FROM "{schema}".{VERSION_TABLE}')) == HEAD
            assert connection.scalar(text("SELECT version_num FROM alembic_version")) \
                == ledger_version
    finally:
        engine.dispose()
