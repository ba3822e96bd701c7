"""Fixtures: a fresh database per test (SQLite file or PostgreSQL database cloned from a migrated
template), a RabbitMQ vhost per test, and a wired Ledger."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.engine import make_url

from ledger.app import create_app
from ledger.bootstrap import Ledger, build
from ledger.infra.db.migrate import upgrade
from ledger.settings import Settings
from tests.pools import Pool
from tests.support import (
    AMQP_BASE_URL,
    POSTGRES_ADMIN_URL,
    TEST_LOG_ORIGIN,
    TEST_PEPPER,
    PlatformFixture,
    rabbitmqctl,
    register_platform,
    unique_name,
)

# Every ledger process a test starts names its log, as a deployment with a broker must (SPEC
# §14); tests/test_settings.py unsets it to see the embedded default and the refusal.
os.environ.setdefault("POINTSLEDGER_LOG_ORIGIN", TEST_LOG_ORIGIN)


def _admin_connection() -> psycopg.Connection[tuple[object, ...]]:
    url = make_url(POSTGRES_ADMIN_URL)
    try:
        return psycopg.connect(
            host=url.host, port=url.port or 5432, user=url.username, password=url.password,
            dbname=url.database, autocommit=True, connect_timeout=5,
        )
    except psycopg.OperationalError as error:
        raise RuntimeError(
            f"PostgreSQL is not reachable at {url.host}:{url.port}; start it (see README): {error}"
        ) from error


def _database_url(name: str) -> str:
    return make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str]:
    """A PostgreSQL database migrated to head once per test session, cloned by each test."""
    name = unique_name("pl_template")
    with _admin_connection() as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    upgrade(_database_url(name))
    yield name
    with _admin_connection() as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def database_pool(postgres_template: str) -> Iterator[Pool]:
    """Clones of the template, made ahead and dropped behind the tests (tests/pools.py)."""

    def make() -> str:
        name = unique_name("pl_test")
        with _admin_connection() as connection:
            connection.execute(f'CREATE DATABASE "{name}" TEMPLATE "{postgres_template}"')
        return name

    def drop(name: str) -> None:
        with _admin_connection() as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    pool = Pool("PostgreSQL database", make, drop)
    yield pool
    pool.close()


@pytest.fixture
def postgres_url(database_pool: Pool) -> Iterator[str]:
    """A PostgreSQL database of the test's own, migrated to head; dropped after it."""
    name = database_pool.take()
    yield _database_url(name)
    database_pool.give_back(name)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "ledger.sqlite3"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    path = tmp_path / "ledger.sqlite3"
    shutil.copyfile(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> str:
    """Runs the test once on SQLite (embedded) and once on PostgreSQL (production)."""
    fixture = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    return str(request.getfixturevalue(fixture))


@pytest.fixture(scope="session")
def vhost_pool() -> Iterator[Pool]:
    """RabbitMQ vhosts, made ahead and deleted behind the tests (tests/pools.py)."""

    def make() -> str:
        vhost = unique_name("pl_test")
        rabbitmqctl("add_vhost", vhost)
        rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
        return vhost

    def delete(vhost: str) -> None:
        rabbitmqctl("delete_vhost", vhost)

    pool = Pool("RabbitMQ vhost", make, delete)
    yield pool
    pool.close()


@pytest.fixture
def amqp_url(vhost_pool: Pool) -> Iterator[str]:
    """A RabbitMQ vhost of its own for one test."""
    vhost = vhost_pool.take()
    yield f"{AMQP_BASE_URL}/{vhost}"
    vhost_pool.give_back(vhost)


def make_settings(database_url: str, amqp_url: str | None = None,
                  tmp_path: Path | None = None) -> Settings:
    key_file = (tmp_path or Path("var")) / "ledger.key"
    return Settings(database_url=database_url, amqp_url=amqp_url, resident_pepper=TEST_PEPPER,
                    ledger_key_file=key_file, clock_skew_s=300)


@pytest.fixture
def ledger(database_url: str, tmp_path: Path) -> Iterator[Ledger]:
    """The wired ledger on each database backend."""
    built = build(make_settings(database_url, tmp_path=tmp_path))
    yield built
    built.close()


@pytest.fixture
def platform(ledger: Ledger) -> PlatformFixture:
    return register_platform(ledger.sessions)


@pytest.fixture
def app(ledger: Ledger) -> Flask:
    """The HTTP API on the per-test ledger."""
    return create_app(ledger=ledger)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def backup(ledger: Ledger, database_url: str, tmp_path: Path) -> Iterator[Callable[[], str]]:
    """Takes a copy of the ledger's database as it is now (what a nightly backup holds) and
    returns its URL; the copies are dropped after the test."""
    made: list[str] = []

    def take() -> str:
        ledger.engine.dispose()  # PostgreSQL copies a database nobody is connected to
        if database_url.startswith("sqlite"):
            copy = tmp_path / f"backup-{len(made)}.sqlite3"
            shutil.copyfile(str(make_url(database_url).database), copy)
            url = f"sqlite:///{copy}"
        else:
            name = unique_name("pl_backup")
            with _admin_connection() as connection:
                connection.execute(
                    f'CREATE DATABASE "{name}" TEMPLATE "{make_url(database_url).database}"')
            url = _database_url(name)
        made.append(url)
        return url

    yield take
    for url in made:
        if url.startswith("postgresql"):
            with _admin_connection() as connection:
                connection.execute(
                    f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')


@pytest.fixture
def broker_ledger(postgres_url: str, amqp_url: str, tmp_path: Path) -> Iterator[Ledger]:
    built = build(make_settings(postgres_url, amqp_url, tmp_path))
    yield built
    built.close()


@pytest.fixture
def broker_platform(broker_ledger: Ledger, amqp_url: str) -> PlatformFixture:
    """A registered platform, and the topology `pointsledger amqp setup` declares for it."""
    from tests.amqp.support import declare  # pika only for the tests that need a broker

    platform = register_platform(broker_ledger.sessions)
    declare(amqp_url, [platform.code])
    return platform
