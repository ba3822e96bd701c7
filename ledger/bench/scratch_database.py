"""A throw-away PostgreSQL database next to the configured one, so a benchmark never touches
real data: created and migrated on entry, dropped on exit."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from ledger.infra.db.migrate import upgrade

MAINTENANCE_DATABASE = "postgres"
CONNECT_TIMEOUT_S = 10
SCRATCH_PREFIX = "pointsledger_bench_"


class ScratchDatabaseError(Exception):
    """The scratch database could not be created (no PostgreSQL, or no right to create one)."""


def _maintenance_connection(database_url: str) -> psycopg.Connection[tuple[object, ...]]:
    url = make_url(database_url)
    try:
        return psycopg.connect(
            host=url.host, port=url.port or 5432, user=url.username, password=url.password,
            dbname=MAINTENANCE_DATABASE, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S)
    except psycopg.Error as error:
        raise ScratchDatabaseError(
            f"cannot connect to the {MAINTENANCE_DATABASE!r} database of the PostgreSQL server "
            f"of POINTSLEDGER_DATABASE_URL: {type(error).__name__}") from None


@contextmanager
def scratch_database(database_url: str) -> Iterator[str]:
    """The SQLAlchemy URL of a new, migrated database on the same server; dropped afterwards."""
    name = SCRATCH_PREFIX + secrets.token_hex(6)
    with _maintenance_connection(database_url) as connection:
        try:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        except psycopg.Error as error:
            raise ScratchDatabaseError(
                f"cannot create the scratch database {name}: {type(error).__name__}") from None
    scratch_url = make_url(database_url).set(database=name).render_as_string(
        hide_password=False)
    try:
        upgrade(scratch_url)
        yield scratch_url
    finally:
        with _maintenance_connection(database_url) as connection:
            connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(name)))
