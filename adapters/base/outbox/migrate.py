"""The outbox's tables brought up to date by its own Alembic migrations (`migrations/`, found by
package path, not by the working directory), with their own version table.

An outbox made before its tables had migrations (by `metadata.create_all`) has its tables but
no version table: it is adopted, stamped at the newest revision whose tables it already has,
and then upgraded in place like any other.
"""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Column, Connection, MetaData, String, Table, inspect, select

SCRIPT_LOCATION = "adapters.base.outbox:migrations"
VERSION_TABLE = "adapter_alembic_version"
# What each revision created, newest last: an outbox made by create_all before migrations
# existed had the tables of the version that made it (a newer version added tables to it).
TABLES_BY_REVISION = (
    ("0001", frozenset({"outbox_events", "quarantine", "adapter_state", "imported_sources"})),
    ("0002", frozenset({"residents", "notices"})),
    ("0003", frozenset({"import_progress"})),
    ("0004", frozenset({"published_marks", "receipts", "ledger_rejections",
                        "inconsistent_checkpoints"})),
)


def outbox_config(connection: Connection, schema: str | None) -> Config:
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    config.attributes["connection"] = connection
    config.attributes["schema"] = schema
    config.attributes["version_table"] = VERSION_TABLE
    return config


def upgrade_outbox(connection: Connection, schema: str | None) -> None:
    """Upgrade the outbox to the newest revision, in the caller's transaction. Alembic is only
    started when there is something to do: opening an outbox that is up to date says nothing."""
    config = outbox_config(connection, schema)
    head = ScriptDirectory.from_config(config).get_current_head()
    current = current_revision(connection, schema)
    if current == head:
        return
    if current is None:
        adopted = adopted_revision(connection, schema)
        if adopted is not None:
            command.stamp(config, adopted)
    command.upgrade(config, "head")


def current_revision(connection: Connection, schema: str | None) -> str | None:
    if not inspect(connection).has_table(VERSION_TABLE, schema=schema):
        return None
    version = Table(VERSION_TABLE, MetaData(schema=schema), Column("version_num", String(32)))
    return connection.scalar(select(version.c.version_num))


def adopted_revision(connection: Connection, schema: str | None) -> str | None:
    """The newest revision whose tables, and those of every revision before it, the outbox
    already has; None for an empty database."""
    present = set(inspect(connection).get_table_names(schema=schema))
    adopted = None
    for revision, tables in TABLES_BY_REVISION:
        if not tables <= present:
            break
        adopted = revision
    return adopted
