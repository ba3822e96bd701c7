"""Migrations: the models are the migrations, and the append-only guard survives later ones."""

from __future__ import annotations

import shutil
from importlib.resources import files
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError

from ledger.bootstrap import Ledger
from ledger.domain.outcomes import Status
from ledger.infra.db.migrate import check
from ledger.runtime.database import make_engine
from ledger.service.chain_audit import audit_chain
from tests.support import PlatformFixture

LATER_REVISION = '''"""a later change to ledger_entries, made the way SQLite needs it"""

import sqlalchemy as sa
from alembic import op

revision = "later"
down_revision = "{head}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # "always": SQLite rebuilds the table (create, copy, drop, rename), which drops its triggers.
    with op.batch_alter_table("ledger_entries", recreate="always") as batch_op:
        batch_op.add_column(sa.Column("note", sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ledger_entries", recreate="always") as batch_op:
        batch_op.drop_column("note")
'''


def later_migrations(directory: Path, reinstall_guard: bool = True) -> Path:
    """A copy of the shipped migrations plus a later revision on top of their head."""
    scripts = directory / "migrations"
    shutil.copytree(str(files("migrations")), scripts,
                    ignore=shutil.ignore_patterns("__pycache__"))
    head = ScriptDirectory(str(scripts)).get_current_head()
    (scripts / "versions" / "later_ledger_entries_note.py").write_text(
        LATER_REVISION.replace("{head}", str(head)))
    if not reinstall_guard:
        env = scripts / "env.py"
        source = env.read_text()
        call = "        install_append_only_guard(connection, append_only_tables())\n"
        assert call in source
        env.write_text(source.replace(call, ""))
    return scripts


def upgrade_with(scripts: Path, database_url: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(scripts))
    config.attributes["database_url"] = database_url
    command.upgrade(config, "head")


def test_models_and_migrations_agree(database_url: str) -> None:
    check(database_url)


def test_the_guard_survives_a_later_batch_migration(
        ledger: Ledger, platform: PlatformFixture, database_url: str, tmp_path: Path) -> None:
    assert all(outcome.status is Status.RECORDED for outcome in
               ledger.ingestor.ingest([platform.delivery(), platform.delivery()]))
    upgrade_with(later_migrations(tmp_path), database_url)

    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            columns = {column["name"] for column in inspect(connection).get_columns(
                "ledger_entries")}
            assert "note" in columns, "the later migration did not run"
            assert connection.scalar(text("SELECT count(*) FROM ledger_entries")) == 2
        for statement in ("UPDATE ledger_entries SET note = 'changed'",
                          "UPDATE ledger_entries SET points = 0 WHERE seq = 1",
                          "DELETE FROM ledger_entries WHERE seq = 2",
                          "DELETE FROM ledger_entries"):
            with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
                connection.execute(text(statement))
    finally:
        engine.dispose()
    with ledger.sessions() as session:
        report = audit_chain(session)
    assert report.intact and report.entries == 2
    assert ledger.ingestor.ingest([platform.delivery()])[0].seq == 3


def test_without_the_reinstall_a_sqlite_batch_migration_drops_the_guard(
        sqlite_url: str, tmp_path: Path) -> None:
    """Why migrations/env.py reinstalls the guard after every run: this is what it prevents."""
    upgrade_with(later_migrations(tmp_path, reinstall_guard=False), sqlite_url)
    engine = make_engine(sqlite_url)
    try:
        with engine.connect() as connection:
            triggers = connection.scalars(text(
                "SELECT name FROM sqlite_master WHERE type = 'trigger'"
                " AND tbl_name = 'ledger_entries'")).all()
    finally:
        engine.dispose()
    assert triggers == []
