"""`pointsledger consume` as a real process under faults: killed mid-batch, its broker connection
closed, the database gone for a while, and SIGTERM. Every valid event ends up recorded exactly
once, nothing is acked before it is committed, and nothing is lost."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from psycopg import sql
from sqlalchemy import text
from sqlalchemy.engine import make_url

from ledger.bootstrap import Ledger
from ledger.infra.db.locks import CHAIN_LOCK_KEY
from ledger.service.chain_audit import audit_chain
from tests.amqp.scenario import Scenario, stream
from tests.amqp.support import (
    connection_pids,
    entries,
    postgres_admin,
    publish,
    queue_depth,
    queue_messages,
    rabbitmqctl,
    ready_messages,
    rejections,
    running_consumer,
    wait_until,
)
from tests.support import PlatformFixture

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.rabbitmq]

LEDGER_QUEUE = "pointsledger.ledger"
CONSUME_TIMEOUT_S = 90.0
STATISTICS_LAG_S = 20.0
# Short, so that a connection left silent is closed within seconds (RabbitMQ's floor is 1 s).
HEARTBEAT_S = 2


def _assert_recorded_exactly_once(ledger: Ledger, scenario: Scenario, platform: str) -> None:
    assert entries(ledger.sessions) == scenario.valid_events
    with ledger.sessions() as session:
        report = audit_chain(session)
    assert report.intact, report.problem
    assert report.entries == scenario.valid_events
    assert scenario.balances_match(ledger.sessions, platform)
    # The message without signature headers is refused and kept (once per delivery of it).
    reasons = rejections(ledger.sessions)
    assert reasons and set(reasons) == {"bad_signature"}


def _wait_until_all_consumed(ledger: Ledger, amqp_url: str, expected: int) -> None:
    wait_until(lambda: entries(ledger.sessions) >= expected, CONSUME_TIMEOUT_S,
               f"{expected} ledger entries")
    wait_until(lambda: queue_messages(amqp_url, LEDGER_QUEUE) == 0, CONSUME_TIMEOUT_S,
               "every message to be acked")


def test_a_consumer_killed_mid_batch_loses_and_doubles_nothing(
        broker_ledger: Ledger, broker_platform: PlatformFixture, amqp_url: str,
        consumer_env: dict[str, str], tmp_path: Path) -> None:
    scenario = stream(broker_platform, 4000)
    publish(amqp_url, scenario.messages)

    with running_consumer(consumer_env, tmp_path / "first.log") as consumer:
        wait_until(lambda: entries(broker_ledger.sessions) > 0, CONSUME_TIMEOUT_S,
                   "the first batch to be recorded")
        consumer.children()
        consumer.process.send_signal(signal.SIGKILL)
        consumer.process.wait(timeout=10)
        recorded_at_kill = entries(broker_ledger.sessions)
        assert recorded_at_kill < scenario.valid_events, "the kill came too late to test"
        consumer.wait_for_children_to_end()

    with running_consumer(consumer_env, tmp_path / "second.log") as consumer:
        _wait_until_all_consumed(broker_ledger, amqp_url, scenario.valid_events)
        assert consumer.terminate() == 0, consumer.log()

    _assert_recorded_exactly_once(broker_ledger, scenario, broker_platform.code)


def test_a_connection_closed_by_the_broker_is_reopened_and_consumption_goes_on(
        broker_ledger: Ledger, broker_platform: PlatformFixture, amqp_url: str,
        consumer_env: dict[str, str], tmp_path: Path) -> None:
    scenario = stream(broker_platform, 10000)
    with running_consumer(consumer_env, tmp_path / "consumer.log") as consumer:
        consumer.wait_until_consuming(amqp_url)
        (first_connection,) = connection_pids(amqp_url, consumer.connection_name)
        publish(amqp_url, scenario.messages)
        wait_until(lambda: entries(broker_ledger.sessions) > 0, CONSUME_TIMEOUT_S,
                   "the first batch to be recorded")

        rabbitmqctl("close_connection", first_connection, "closed by the broker test")
        assert entries(broker_ledger.sessions) < scenario.valid_events, "closed too late to test"

        wait_until(lambda: bool(set(connection_pids(amqp_url, consumer.connection_name))
                                - {first_connection}), CONSUME_TIMEOUT_S, "a new connection")
        _wait_until_all_consumed(broker_ledger, amqp_url, scenario.valid_events)
        assert consumer.alive()
        assert "lost the RabbitMQ connection" in consumer.log()
        assert consumer.terminate() == 0, consumer.log()

    _assert_recorded_exactly_once(broker_ledger, scenario, broker_platform.code)


@contextmanager
def _database_refusing_connections(database_url: str) -> Iterator[None]:
    """ALLOW_CONNECTIONS false and every session of the database ended, until the block ends."""
    name = make_url(database_url).database
    with postgres_admin() as connection:
        connection.execute(sql.SQL("ALTER DATABASE {} WITH ALLOW_CONNECTIONS false").format(
            sql.Identifier(name)))
        try:
            connection.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                               "WHERE datname = %s AND pid <> pg_backend_pid()", (name,))
            yield
        finally:
            connection.execute(sql.SQL("ALTER DATABASE {} WITH ALLOW_CONNECTIONS true").format(
                sql.Identifier(name)))


def test_while_the_database_is_down_messages_stay_unacked_and_are_recorded_once_it_is_back(
        broker_ledger: Ledger, broker_platform: PlatformFixture, amqp_url: str,
        postgres_url: str, consumer_env: dict[str, str], tmp_path: Path) -> None:
    scenario = stream(broker_platform, 300)
    with running_consumer(consumer_env, tmp_path / "consumer.log") as consumer:
        consumer.wait_until_consuming(amqp_url)
        with _database_refusing_connections(postgres_url):
            broker_ledger.engine.dispose()  # the test's own pooled sessions are ended too
            publish(amqp_url, scenario.messages)
            wait_until(lambda: "the database is unavailable" in consumer.log(), 30,
                       "the consumer to notice the outage")
            # Taken, and held unacked rather than acked or dropped, while it retries.
            wait_until(lambda: queue_depth(amqp_url, LEDGER_QUEUE) == (0, len(scenario.messages)),
                       STATISTICS_LAG_S, "the messages to be held unacked")
            time.sleep(1)
            assert consumer.alive(), consumer.log()
            assert queue_depth(amqp_url, LEDGER_QUEUE) == (0, len(scenario.messages))

        _wait_until_all_consumed(broker_ledger, amqp_url, scenario.valid_events)
        assert consumer.terminate() == 0, consumer.log()

    assert consumer.log().count("the database is unavailable") == 1  # once per outage
    _assert_recorded_exactly_once(broker_ledger, scenario, broker_platform.code)


def test_an_append_held_up_by_the_database_past_the_heartbeat_timeout_keeps_its_connection(
        broker_ledger: Ledger, broker_platform: PlatformFixture, amqp_url: str,
        consumer_env: dict[str, str], tmp_path: Path) -> None:
    """Another appender holds the chain lock for five heartbeat intervals: the consumer's
    append waits for it, and meanwhile its broker thread keeps the connection alive, so the
    batch is committed and acked on the same connection, without a redelivery."""
    scenario = stream(broker_platform, 300)
    environment = {**consumer_env,
                   "POINTSLEDGER_AMQP_URL": f"{amqp_url}?heartbeat={HEARTBEAT_S}"}
    with running_consumer(environment, tmp_path / "consumer.log") as consumer:
        consumer.wait_until_consuming(amqp_url)
        connections = connection_pids(amqp_url, consumer.connection_name)
        with broker_ledger.engine.connect() as other_appender:
            other_appender.execute(text("SELECT pg_advisory_lock(:key)"), {"key": CHAIN_LOCK_KEY})
            publish(amqp_url, scenario.messages)
            wait_until(lambda: queue_depth(amqp_url, LEDGER_QUEUE)[0] == 0, STATISTICS_LAG_S,
                       "the consumer to take the messages")
            time.sleep(5 * HEARTBEAT_S)
            assert entries(broker_ledger.sessions) == 0  # still waiting for the chain lock
            other_appender.execute(text("SELECT pg_advisory_unlock(:key)"),
                                   {"key": CHAIN_LOCK_KEY})

        _wait_until_all_consumed(broker_ledger, amqp_url, scenario.valid_events)
        assert connection_pids(amqp_url, consumer.connection_name) == connections
        assert consumer.terminate() == 0, consumer.log()

    assert "lost the RabbitMQ connection" not in consumer.log()
    # Delivered once: the message without signature headers was refused once, not again.
    assert rejections(broker_ledger.sessions) == ["bad_signature"]
    _assert_recorded_exactly_once(broker_ledger, scenario, broker_platform.code)


def test_sigterm_finishes_the_messages_in_hand_and_exits_zero(
        broker_ledger: Ledger, broker_platform: PlatformFixture, amqp_url: str,
        consumer_env: dict[str, str], tmp_path: Path) -> None:
    scenario = stream(broker_platform, 8000)  # more than the prefetch: some stay queued
    publish(amqp_url, scenario.messages)

    with running_consumer(consumer_env, tmp_path / "consumer.log") as consumer:
        wait_until(lambda: entries(broker_ledger.sessions) > 0, CONSUME_TIMEOUT_S,
                   "the first batch to be recorded")
        assert consumer.terminate() == 0, consumer.log()
        consumer.wait_for_children_to_end()

    recorded = entries(broker_ledger.sessions)
    assert "stopping: finishing the" in consumer.log()
    # What it took is recorded and acked; the rest is back in the queue (a delivery it had not
    # acked would be there too). Two messages make no entry: the second delivery of one event
    # and the unsigned one.
    left = ready_messages(amqp_url, LEDGER_QUEUE)
    assert left > 0, "the stop came too late to test"
    taken = len(scenario.messages) - left
    assert 0 < recorded <= taken <= recorded + 2

    with running_consumer(consumer_env, tmp_path / "again.log") as consumer:
        _wait_until_all_consumed(broker_ledger, amqp_url, scenario.valid_events)
        assert consumer.terminate() == 0, consumer.log()
    _assert_recorded_exactly_once(broker_ledger, scenario, broker_platform.code)
