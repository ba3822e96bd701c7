"""Fixtures of the ledger core tests.

`shared_ledger` is one database per backend for a whole module: for refusals decided before the
ledger's history is read (size, JSON, schema, platform, signature), which can neither depend on
nor change what the ledger holds. Cloning a PostgreSQL database per case would triple the time.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger.bootstrap import Ledger, build
from tests.conftest import _admin_connection, _database_url, make_settings
from tests.support import PlatformFixture, register_platform, unique_name


@pytest.fixture
def other_platform(ledger: Ledger, platform: PlatformFixture) -> PlatformFixture:
    """A second registered platform with a key of its own (registered after `platform`)."""
    return register_platform(ledger.sessions, "nanyang_young", "南阳young", "南阳街道")


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def shared_ledger(request: pytest.FixtureRequest,
                  tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ledger]:
    directory = tmp_path_factory.mktemp("shared")
    database: str | None = None
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        shutil.copyfile(template, directory / "ledger.sqlite3")
        url = f"sqlite:///{directory / 'ledger.sqlite3'}"
    else:
        postgres_template: str = request.getfixturevalue("postgres_template")
        database = unique_name("pl_shared")
        with _admin_connection() as connection:
            connection.execute(f'CREATE DATABASE "{database}" TEMPLATE "{postgres_template}"')
        url = _database_url(database)
    built = build(make_settings(url, tmp_path=directory))
    yield built
    built.close()
    if database is not None:
        with _admin_connection() as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


@pytest.fixture(scope="module")
def shared_platform(shared_ledger: Ledger) -> PlatformFixture:
    return register_platform(shared_ledger.sessions)


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with no schema at all, to migrate step by step."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
        return
    name = unique_name("pl_backfill")
    with _admin_connection() as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    yield _database_url(name)
    with _admin_connection() as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
