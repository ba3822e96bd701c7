"""Database-enforced append-only tables (SPEC §6).

The guard is (re)installed after every migration run: on SQLite a batch migration rebuilds a table
and silently drops its triggers, so installing once in the first migration would not survive.
"""

from __future__ import annotations

from sqlalchemy import Connection, inspect, text

_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION pointsledger_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'table % is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$
"""


def install_append_only_guard(connection: Connection, tables: list[str]) -> None:
    """Idempotently guard each of `tables` that exists (a partial upgrade may not have it yet)."""
    existing = set(inspect(connection).get_table_names())
    tables = [table for table in tables if table in existing]
    if connection.dialect.name == "postgresql":
        connection.execute(text(_PG_FUNCTION))
        for table in tables:
            connection.execute(text(
                f"CREATE OR REPLACE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}"
                " FOR EACH ROW EXECUTE FUNCTION pointsledger_refuse_change()"
            ))
            connection.execute(text(
                f"CREATE OR REPLACE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}"
                " FOR EACH STATEMENT EXECUTE FUNCTION pointsledger_refuse_change()"
            ))
    elif connection.dialect.name == "sqlite":
        # SQLite has no TRUNCATE; its "DELETE FROM t" shortcut is disabled by a delete trigger.
        for table in tables:
            for operation in ("UPDATE", "DELETE"):
                connection.execute(text(
                    f"CREATE TRIGGER IF NOT EXISTS {table}_no_{operation.lower()}"
                    f" BEFORE {operation} ON {table} BEGIN SELECT RAISE(ABORT,"
                    f" 'table {table} is append-only: {operation} refused'); END"
                ))
    else:
        raise RuntimeError(f"no append-only guard for {connection.dialect.name}")
