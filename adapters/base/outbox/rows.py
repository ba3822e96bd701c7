"""What every store of the outbox is built on: where its connection comes from, its clock, and
writing a row over the one with the same key, or only if there is none."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite

# Outside a transaction, a store opens one per call (Engine.begin); inside one, it is handed
# the transaction's connection.
Connect = Callable[[], AbstractContextManager[Connection]]
# When a row was accepted, received, imported: injected so that tests can move time.
Clock = Callable[[], datetime]

TEXT_LENGTH_MAX = 512


def utc_now() -> datetime:
    return datetime.now(UTC)


def upsert(connection: Connection, table: Table, values: Mapping[str, Any],
           key: Sequence[str]) -> None:
    """Insert the row, or update the one with the same `key` columns to `values`."""
    dialect = sqlite if connection.dialect.name == "sqlite" else postgresql
    statement = dialect.insert(table).values(**values)
    changed = {name: statement.excluded[name] for name in values if name not in key}
    connection.execute(statement.on_conflict_do_update(index_elements=list(key), set_=changed))


def insert_new(connection: Connection, table: Table, values: Mapping[str, Any]) -> bool:
    """Insert the row unless one with its primary key exists (which stays as it is); True if it
    was inserted."""
    dialect = sqlite if connection.dialect.name == "sqlite" else postgresql
    statement = dialect.insert(table).values(**values).on_conflict_do_nothing(
        index_elements=[column.name for column in table.primary_key.columns])
    return bool(connection.execute(statement).rowcount)
