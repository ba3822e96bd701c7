"""Reads that must see one moment of the database, such as a ledger head and the projections
derived from it."""

from __future__ import annotations

from sqlalchemy.orm import Session


def read_snapshot(session: Session) -> None:
    """Make the session's transaction one consistent snapshot; call before its first query.

    PostgreSQL's default (READ COMMITTED) takes a new snapshot per statement, so an append
    committed between two reads would show in the second only. On SQLite every transaction
    begins IMMEDIATE and holds the database's write lock: no append can come in between.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
