"""`pointsledger amqp setup` declares the topology of SPEC §5, idempotently."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner
from sqlalchemy.engine import make_url

from ledger.bootstrap import Ledger
from ledger.cli.main import cli
from tests.amqp.support import consumer_environment, vhost_of
from tests.support import POSTGRES_ADMIN_URL, rabbitmqctl, register_platform, unique_name

pytestmark = [pytest.mark.postgres, pytest.mark.rabbitmq]


def _listing(amqp_url: str, what: str, *columns: str) -> set[tuple[str, ...]]:
    output = rabbitmqctl(f"list_{what}", "-q", "--no-table-headers", "-p", vhost_of(amqp_url),
                         *columns)
    return {tuple(line.split("\t")) for line in output.splitlines()}


def test_amqp_setup_declares_every_name_of_the_spec_and_is_idempotent(
        broker_ledger: Ledger, postgres_url: str, amqp_url: str, tmp_path: Path) -> None:
    register_platform(broker_ledger.sessions, "lijiayuan")
    register_platform(broker_ledger.sessions, "pingan_gongfu", "平安共富积分", "衙前镇")
    environment = consumer_environment(postgres_url, amqp_url, tmp_path)

    for _run in range(2):
        result = CliRunner().invoke(cli, ["amqp", "setup"], env=environment)
        assert result.exit_code == 0, result.output

    exchanges = _listing(amqp_url, "exchanges", "name", "type", "durable")
    assert {("pointsledger.events", "topic", "true"), ("pointsledger.dead", "fanout", "true"),
            ("pointsledger.outbound", "topic", "true")} <= exchanges
    queues = {name: arguments for name, arguments in _listing(amqp_url, "queues", "name",
                                                              "arguments")}
    assert set(queues) == {"pointsledger.ledger", "pointsledger.dead",
                           "pointsledger.outbound.lijiayuan", "pointsledger.outbound.pingan_gongfu"}
    for arguments in queues.values():
        assert '{"x-queue-type","quorum"}' in arguments
    assert '{"x-delivery-limit",5}' in queues["pointsledger.ledger"]
    assert '{"x-dead-letter-exchange","pointsledger.dead"}' in queues["pointsledger.ledger"]
    bindings = _listing(amqp_url, "bindings", "source_name", "destination_name", "routing_key")
    assert {("pointsledger.events", "pointsledger.ledger", "#"),
            ("pointsledger.dead", "pointsledger.dead", "pointsledger.dead"),
            ("pointsledger.outbound", "pointsledger.outbound.lijiayuan", "lijiayuan.#"),
            ("pointsledger.outbound", "pointsledger.outbound.pingan_gongfu",
             "pingan_gongfu.#")} <= bindings


def test_consume_without_a_broker_url_is_a_usage_error(postgres_url: str, tmp_path: Path) -> None:
    environment = consumer_environment(postgres_url, "", tmp_path)
    result = CliRunner().invoke(cli, ["consume"], env=environment)
    assert result.exit_code == 2
    assert result.output.strip() == ("error: POINTSLEDGER_AMQP_URL must be set to the RabbitMQ "
                                     "URL (amqp://user:password@host:5672/vhost)")


@pytest.fixture
def unmigrated_database_url() -> Iterator[str]:
    name = unique_name("pl_empty")
    admin = make_url(POSTGRES_ADMIN_URL)
    with psycopg.connect(host=admin.host, port=admin.port or 5432, user=admin.username,
                         dbname=admin.database, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    yield admin.set(database=name).render_as_string(hide_password=False)
    with psycopg.connect(host=admin.host, port=admin.port or 5432, user=admin.username,
                         dbname=admin.database, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_consume_refuses_a_database_without_the_schema(
        unmigrated_database_url: str, amqp_url: str, tmp_path: Path) -> None:
    # Every batch would fail, and the delivery limit would dead-letter every event.
    environment = consumer_environment(unmigrated_database_url, amqp_url, tmp_path)
    result = CliRunner().invoke(cli, ["consume"], env=environment)
    assert result.exit_code == 2
    assert "not at the latest schema; run `pointsledger db upgrade` first" in result.output


def test_consume_with_a_vhost_the_broker_refuses_is_a_usage_error(
        postgres_url: str, amqp_url: str, tmp_path: Path) -> None:
    environment = consumer_environment(postgres_url, amqp_url + "_missing", tmp_path)
    result = CliRunner().invoke(cli, ["consume"], env=environment)
    assert result.exit_code == 2
    assert "RabbitMQ refuses the user, password or vhost of POINTSLEDGER_AMQP_URL" in result.output
