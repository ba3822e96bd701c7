"""Bulk writes for the hot path: one statement (or one COPY) per batch instead of one per row.

psycopg runs `executemany` as one prepared execution per row; for a thousand-row batch that is a
thousand statements for the server to run. COPY, and an upsert over arrays, are one each.

On PostgreSQL the rows travel as text we write ourselves: the COPY text format, and array
literals. psycopg's per-value adaptation (a Python call per value) costs more than the server's
work for these rows; joining strings is done in C.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Table, TextClause, bindparam, insert, text, update
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
    data = "".join(
        "\t".join([_copy_text(row[column]) for column in columns]) + "\n" for row in rows)
    with driver_connection.cursor() as cursor, cursor.copy(statement) as copy:
        copy.write(data)


def _copy_text(value: object) -> str:
    """One value in COPY's text format (NULL is \\N; backslash, tab, newline, CR escaped)."""
    if value is None:
        return "\\N"
    if isinstance(value, str):
        if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
            return (value.replace("\\", "\\\\").replace("\t", "\\t")
                    .replace("\n", "\\n").replace("\r", "\\r"))
        return value
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return "\\\\x" + value.hex()
    raise TypeError(f"no COPY text for a {type(value).__name__}")


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
                    {column: array_literal([row[column] for row in rows]) for column in columns})


def add_to_existing_rows(session: Session, table: Table, rows: Sequence[dict[str, Any]],
                         counters: tuple[str, ...]) -> int:
    """UPDATE … SET counter = counter + the row's counter, for rows whose primary key exists;
    how many rows were updated. For additions that must never be proposed as new rows (a
    CHECK constraint is checked on an upsert's proposed row too, before it meets the conflict).

    Rows must have distinct primary keys. On PostgreSQL one constant statement over arrays.
    """
    if not rows:
        return 0
    keys = [column.name for column in table.primary_key.columns]
    if session.get_bind().dialect.name != "postgresql":
        statement = update(table).where(
            *[table.c[key] == bindparam(f"key_{key}") for key in keys]
        ).values({name: table.c[name] + bindparam(f"add_{name}") for name in counters})
        result = session.execute(statement, [
            {**{f"key_{key}": row[key] for key in keys},
             **{f"add_{name}": row[name] for name in counters}} for row in rows])
        return int(result.rowcount)  # type: ignore[attr-defined]
    columns = [*keys, *counters]
    result = session.execute(_unnest_update(table, tuple(counters)),
                             {column: array_literal([row[column] for row in rows])
                              for column in columns})
    return int(result.rowcount)  # type: ignore[attr-defined]


def array_literal(values: Sequence[str | int | None]) -> str:
    """A PostgreSQL array literal (`{"a","b"}`, `{1,2}`), to be cast to its array type."""
    return "{" + ",".join([_array_element(value) for value in values]) + "}"


def _array_element(value: str | int | None) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, int):
        return str(value)
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


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


@functools.cache
def _unnest_update(table: Table, counters: tuple[str, ...]) -> TextClause:
    keys = [column for column in table.primary_key.columns]
    columns = [*keys, *[table.c[name] for name in counters]]
    arrays = ", ".join(
        f"CAST(:{column.name} AS {_ARRAY_TYPES[type(column.type).__name__]}[])"
        for column in columns)
    names = ", ".join(column.name for column in columns)
    updates = ", ".join(f"{name} = {table.name}.{name} + added.{name}" for name in counters)
    matches = " AND ".join(f"{table.name}.{key.name} = added.{key.name}" for key in keys)
    # Identifiers come from our own table metadata, never from input.
    return text(f"UPDATE {table.name} SET {updates} "  # noqa: S608
                f"FROM unnest({arrays}) AS added({names}) WHERE {matches}")


_ARRAY_TYPES = {"String": "text", "BigInteger": "bigint", "Integer": "integer"}
