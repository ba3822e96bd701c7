"""SPEC §6: the database itself refuses to change the ledger, and `pointsledger verify` finds any
change made behind its back (SPEC §3: exit 1 naming the first bad seq)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from ledger.bootstrap import Ledger, build
from ledger.domain.outcomes import Status
from tests.conftest import make_settings
from tests.ledger.helpers import entries, invoke, rejections
from tests.support import PlatformFixture, register_platform

APPLICATION_CHANGES = {
    "update-entry": "UPDATE ledger_entries SET points = 1000 WHERE seq = 2",
    "update-every-entry": "UPDATE ledger_entries SET resident = resident",
    "delete-entry": "DELETE FROM ledger_entries WHERE seq = 3",
    "delete-every-entry": "DELETE FROM ledger_entries",
    "update-rejection": "UPDATE rejections SET reason = 'recorded'",
    "delete-rejection": "DELETE FROM rejections",
}


@pytest.fixture
def filled(ledger: Ledger, platform: PlatformFixture) -> Ledger:
    """Three entries and one rejection."""
    outcomes = ledger.ingestor.ingest([
        platform.delivery(points=10), platform.delivery(points=20),
        platform.delivery(type="points.deducted", points=5),
        platform.delivery(points=0),
    ])
    assert [outcome.status for outcome in outcomes] == [Status.RECORDED] * 3 + [Status.REJECTED]
    return ledger


def test_the_database_refuses_to_change_the_ledger(filled: Ledger) -> None:
    before = ([(row.seq, row.points, row.entry_hash) for row in entries(filled)],
              [(row.id, row.reason) for row in rejections(filled)])
    for name, statement in APPLICATION_CHANGES.items():
        with pytest.raises(DBAPIError, match="append-only"), filled.engine.begin() as connection:
            connection.execute(text(statement))
            pytest.fail(f"{name} was allowed")  # pragma: no cover
    after = ([(row.seq, row.points, row.entry_hash) for row in entries(filled)],
             [(row.id, row.reason) for row in rejections(filled)])
    assert after == before


@pytest.mark.parametrize("table", ["ledger_entries", "rejections"])
def test_postgresql_refuses_truncate(postgres_url: str, table: str) -> None:
    from ledger.runtime.database import make_engine

    engine = make_engine(postgres_url)
    try:
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
            connection.execute(text(f"TRUNCATE {table}"))
    finally:
        engine.dispose()


def test_an_untouched_ledger_verifies(filled: Ledger, database_url: str) -> None:
    result = invoke(database_url, "verify")
    assert result.exit_code == 0, result.output
    assert "3 entries" in result.stdout
    assert result.stderr == ""


def test_an_empty_ledger_verifies(ledger: Ledger, database_url: str) -> None:
    result = invoke(database_url, "verify")
    assert result.exit_code == 0, result.output


def tamper(connection: Connection, statement: str) -> int:
    """Change ledger_entries the way only an operator with full access to the database could."""
    if connection.dialect.name == "postgresql":
        if statement.startswith("DELETE"):
            connection.execute(text("ALTER TABLE ledger_entries DISABLE TRIGGER ALL"))
        else:
            # Replica mode skips ordinary triggers, for this transaction only.
            connection.execute(text("SET LOCAL session_replication_role = replica"))
    else:
        connection.execute(text("DROP TRIGGER ledger_entries_no_update"))
        connection.execute(text("DROP TRIGGER ledger_entries_no_delete"))
    changed = connection.execute(text(statement), {"other": "c" * 64, "zeros": "0" * 64})
    if connection.dialect.name == "postgresql" and statement.startswith("DELETE"):
        connection.execute(text("ALTER TABLE ledger_entries ENABLE TRIGGER ALL"))
    return changed.rowcount


TAMPERING = {
    # case: (statement, first bad seq)
    "points-changed": ("UPDATE ledger_entries SET points = 2000 WHERE seq = 2", 2),
    "body-changed": ("UPDATE ledger_entries SET body = replace(body, '10', '99') WHERE seq = 1",
                     1),
    "resident-changed": ("UPDATE ledger_entries SET resident = :other WHERE seq = 3", 3),
    "entry-hash-changed": ("UPDATE ledger_entries SET entry_hash = :zeros WHERE seq = 2", 2),
    "middle-entry-deleted": ("DELETE FROM ledger_entries WHERE seq = 2", 2),
    "first-entry-deleted": ("DELETE FROM ledger_entries WHERE seq = 1", 1),
}


@pytest.mark.parametrize("case", list(TAMPERING))
def test_verify_names_the_first_tampered_seq(filled: Ledger, database_url: str,
                                             case: str) -> None:
    statement, bad_seq = TAMPERING[case]
    with filled.engine.begin() as connection:
        assert tamper(connection, statement) == 1
    result = invoke(database_url, "verify")
    assert result.exit_code == 1, result.output
    assert f"seq {bad_seq}" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output


def test_replacing_an_entry_through_a_conflicting_insert_is_refused(filled: Ledger) -> None:
    """INSERT OR REPLACE (SQLite) deletes the row in the way; ON CONFLICT DO UPDATE updates it."""
    copy_of_seq_1 = ("SELECT seq, kind, platform, event_id, platform_seq, resident, category,"
                     " 999, occurred_at, recorded_at, revokes, key_id, body, webhook_timestamp,"
                     " webhook_signature, entry_hash FROM ledger_entries WHERE seq = 1")
    columns = ("seq, kind, platform, event_id, platform_seq, resident, category, points,"
               " occurred_at, recorded_at, revokes, key_id, body, webhook_timestamp,"
               " webhook_signature, entry_hash")
    statements = [f"INSERT INTO ledger_entries ({columns}) {copy_of_seq_1}"
                  " ON CONFLICT (seq) DO UPDATE SET points = excluded.points"]
    if filled.engine.dialect.name == "sqlite":
        statements += [f"INSERT OR REPLACE INTO ledger_entries ({columns}) {copy_of_seq_1}",
                       f"REPLACE INTO ledger_entries ({columns}) {copy_of_seq_1}"]
    for statement in statements:
        with pytest.raises(DBAPIError, match="append-only"), filled.engine.begin() as connection:
            connection.execute(text(statement))
            pytest.fail(f"allowed: {statement[:30]}")  # pragma: no cover
    assert [row.points for row in entries(filled)] == [10, 20, -5]


@pytest.mark.parametrize(("column", "value"), [
    ("occurred_at", "'not a date'"), ("recorded_at", "x'00ff'"), ("points", "1e400"),
])
def test_verify_names_an_entry_that_can_no_longer_be_read(
        sqlite_url: str, tmp_path: Path, column: str, value: str) -> None:
    """SQLite keeps whatever is written into a column: a row may not even decode any more."""
    ledger = build(make_settings(sqlite_url, tmp_path=tmp_path))
    try:
        platform = register_platform(ledger.sessions)
        ledger.ingestor.ingest([platform.delivery() for _ in range(4)])
        with ledger.engine.begin() as connection:
            tamper(connection, f"UPDATE ledger_entries SET {column} = {value} WHERE seq = 3")
    finally:
        ledger.close()
    result = invoke(sqlite_url, "verify")
    assert result.exit_code == 1, result.output
    assert "seq 3" in result.stderr and "Traceback" not in result.output
