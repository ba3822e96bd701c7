"""Alembic environment: the URL comes from the caller or POINTSLEDGER_DATABASE_URL.

After every run the append-only guard is reinstalled, because an SQLite batch migration rebuilds
tables and drops their triggers.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, text

from ledger.infra.db.append_only import install_append_only_guard
from ledger.infra.db.models import Base, append_only_tables
from ledger.runtime.database import make_engine

POSTGRES_LOCK_TIMEOUT = "10s"

config = context.config
target_metadata = Base.metadata


def _database_url() -> str:
    url = config.attributes.get("database_url")
    if url:
        return str(url)
    from ledger.settings import Settings

    return Settings.from_environment().database_url


def _run(connection: Connection) -> None:
    foreign_keys_off = connection.dialect.name == "sqlite" and not connection.in_transaction()
    if foreign_keys_off:
        # SQLite changes a constraint by rebuilding the table (batch mode): the old one is
        # dropped while other tables still point at it, which foreign keys that are on refuse.
        # SQLite's own procedure for such changes: keys off (outside any transaction), and
        # checked once before the commit.
        connection.connection.driver_connection.execute(  # type: ignore[union-attr]
            "PRAGMA foreign_keys=OFF")
    if connection.dialect.name == "postgresql":
        # A migration waiting on a busy table must fail fast rather than stall the ledger.
        connection.execute(text(f"SET lock_timeout = '{POSTGRES_LOCK_TIMEOUT}'"))
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
        install_append_only_guard(connection, append_only_tables())
        if foreign_keys_off:
            _refuse_broken_foreign_keys(connection)


def _refuse_broken_foreign_keys(connection: Connection) -> None:
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
    if broken:
        raise RuntimeError(f"the migration left rows whose foreign keys point nowhere: {broken}")


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(_database_url())
    try:
        with engine.connect() as connection:
            _run(connection)
            connection.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported: run against a database")
run_migrations_online()
