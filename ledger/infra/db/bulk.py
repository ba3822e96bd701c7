"""Bulk writes for the hot path: one statement (or one COPY) per batch instead of one per row.

psycopg runs `executemany` as one prepared execution per row; for a thousand-row batch that is a
thousand statements for the server to run. COPY, and an upsert over arrays, are one each.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, TextClause, insert, text
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session


def insert_rows(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Plain INSERT of many rows: COPY on PostgreSQL, executemany elsewhere."""
    if not rows:
        return
    if session.get_bind().dialect.name != "postgresql":
        session.execute(insert(table), list(rows))
        return
    columns = [column.name for column in table.columns if column.name in rows[0]]
    driver_connection = session.connection().connection.driver_connection
    assert driver_connection is not None
    statement = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN"
    with driver_connection.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row([row[column] for column in columns])


def add_up_rows(session: Session, table: Table, rows: Sequence[dict[str, Any]],
                counters: tuple[str, ...]) -> None:
    """INSERT … ON CONFLICT DO UPDATE SET counter = counter + excluded.counter, for many rows.

    Rows must have distinct primary keys (one statement may not touch a row twice). On
    PostgreSQL all rows travel as one array per column in one constant statement (`unnest`), so
    there is neither a statement per row nor a statement to compile per batch.
    """
    if not rows:
        return
    if session.get_bind().dialect.name != "postgresql":
        statement = sqlite.insert(table)
        statement = statement.on_conflict_do_update(
            index_elements=[column.name for column in table.primary_key.columns],
            set_={name: table.c[name] + statement.excluded[name] for name in counters},
        )
        session.execute(statement, list(rows))
        return
    columns = [column.name for column in table.columns]
    session.execute(_unnest_upsert(table, counters),
                    {column: [row[column] for row in rows] for column in columns})


@functools.cache
def _unnest_upsert(table: Table, counters: tuple[str, ...]) -> TextClause:
    columns = list(table.columns)
    arrays = ", ".join(
        f"CAST(:{column.name} AS {_ARRAY_TYPES[type(column.type).__name__]}[])"
        for column in columns)
    keys = ", ".join(column.name for column in table.primary_key.columns)
    updates = ", ".join(f"{name} = {table.name}.{name} + excluded.{name}" for name in counters)
    names = ", ".join(column.name for column in columns)
    # Identifiers come from our own table metadata, never from input.
    statement = f"INSERT INTO {table.name} ({names}) SELECT * FROM unnest({arrays})"  # noqa: S608
    return text(f"{statement} ON CONFLICT ({keys}) DO UPDATE SET {updates}")


_ARRAY_TYPES = {"String": "text", "BigInteger": "bigint", "Integer": "integer"}
