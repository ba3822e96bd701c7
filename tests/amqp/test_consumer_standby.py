"""One consumer per ledger: a second `pointsledger consume` stands by until the first is gone,
and a consumer that lost its lock to another appends nothing more."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pika
import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from ledger.bootstrap import Ledger
from ledger.infra.db.locks import (
    APPLICATION_NAME,
    CHAIN_LOCK_KEY,
    CONSUMER_LOCK_KEY,
    ConsumerLock,
    ConsumerLockLost,
)
from ledger.service.chain_audit import audit_chain
from tests.amqp.scenario import stream
from tests.amqp.support import (
    ConsumerProcess,
    Published,
    entries,
    postgres_admin,
    publish,
    queue_depth,
    queue_messages,
    rejections,
    running_consumer,
    wait_until,
)
from tests.support import PlatformFixture

pytestmark = [pytest.mark.postgres, pytest.mark.rabbitmq]

LEDGER_QUEUE = "pointsledger.ledger"
TIMEOUT_S = 60.0
STANDING_BY = "another consumer holds the ledger; standing by"
WAITING_FOR_THE_PREVIOUS = "waiting for the previous consumer of pointsledger.ledger"


def queue_ready(amqp_url: str) -> int:
    return queue_depth(amqp_url, LEDGER_QUEUE)[0]


def _ledger_consumers(amqp_url: str) -> int:
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        declared = connection.channel().queue_declare(LEDGER_QUEUE, passive=True)
    finally:
        connection.close()
    return int(declared.method.consumer_count)


def _end_lock_sessions(database_url: str) -> int:
    """What a database restart or an operator does to the lock's connection."""
    with postgres_admin() as connection:
        ended = connection.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = %s AND application_name = %s",
            (make_url(database_url).database, APPLICATION_NAME)).fetchone()
    assert ended is not None
    return int(ended[0])


def test_a_second_consumer_stands_by_until_the_first_stops(
        broker_ledger: Ledger, broker_platform: PlatformFixture, amqp_url: str,
        consumer_env: dict[str, str], tmp_path: Path) -> None:
    scenario = stream(broker_platform, 600)
    first_half, second_half = scenario.messages[:300], scenario.messages[300:]
    with running_consumer(consumer_env, tmp_path / "first.log") as first:
        first.wait_until_consuming(amqp_url)
        with running_consumer(consumer_env, tmp_path / "second.log") as second:
            _second_stands_by_then_takes_over(first, second, amqp_url, broker_ledger,
                                              first_half, second_half, scenario.valid_events)

    with broker_ledger.sessions() as session:
        report = audit_chain(session)
    assert report.intact and report.entries == scenario.valid_events
    assert scenario.balances_match(broker_ledger.sessions, broker_platform.code)


def _second_stands_by_then_takes_over(
        first: ConsumerProcess, second: ConsumerProcess, amqp_url: str, ledger: Ledger,
        first_half: Sequence[Published], second_half: Sequence[Published],
        valid_events: int) -> None:
    wait_until(lambda: STANDING_BY in second.log(), TIMEOUT_S, "the second to stand by")
    publish(amqp_url, first_half)
    wait_until(lambda: queue_messages(amqp_url, LEDGER_QUEUE) == 0, TIMEOUT_S,
               "the first half to be consumed")
    assert _ledger_consumers(amqp_url) == 1, first.log() + "\n----\n" + second.log()
    assert "consuming pointsledger.ledger" not in second.log()

    assert first.terminate() == 0, first.log()
    second.wait_until_consuming(amqp_url)  # it took over
    publish(amqp_url, second_half)
    wait_until(lambda: entries(ledger.sessions) == valid_events, TIMEOUT_S, "every valid event")
    assert second.terminate() == 0, second.log()


def test_a_consumer_whose_lock_session_ended_takes_the_lock_again_and_goes_on(
        broker_ledger: Ledger, broker_platform: PlatformFixture, amqp_url: str,
        postgres_url: str, consumer_env: dict[str, str], tmp_path: Path) -> None:
    scenario = stream(broker_platform, 400)
    with running_consumer(consumer_env, tmp_path / "consumer.log") as consumer:
        consumer.wait_until_consuming(amqp_url)
        publish(amqp_url, scenario.messages[:200])
        wait_until(lambda: queue_messages(amqp_url, LEDGER_QUEUE) == 0, TIMEOUT_S,
                   "the first messages to be consumed")
        assert _end_lock_sessions(postgres_url) == 1

        publish(amqp_url, scenario.messages[200:])
        wait_until(lambda: entries(broker_ledger.sessions) == scenario.valid_events, TIMEOUT_S,
                   "every valid event")
        assert consumer.alive()
        assert "taking the lock again" in consumer.log()
        assert consumer.terminate() == 0, consumer.log()
    assert scenario.balances_match(broker_ledger.sessions, broker_platform.code)


def test_a_consumer_whose_lock_went_to_another_gives_way_while_idle(
        broker_ledger: Ledger, broker_platform: PlatformFixture, amqp_url: str,
        postgres_url: str, consumer_env: dict[str, str], tmp_path: Path) -> None:
    """The lock's session ends and someone else takes the lock: the idle consumer lets go of
    the queue at once, and takes over again when the lock is free."""
    scenario = stream(broker_platform, 300)
    with running_consumer(consumer_env, tmp_path / "consumer.log") as consumer:
        consumer.wait_until_consuming(amqp_url)
        with _lock_taken_from(postgres_url):
            wait_until(lambda: "giving way" in consumer.log(), TIMEOUT_S, "it to give way")
            wait_until(lambda: STANDING_BY in consumer.log(), TIMEOUT_S, "it to stand by")
            assert _ledger_consumers(amqp_url) == 0
            publish(amqp_url, scenario.messages)
            time.sleep(1)
            assert entries(broker_ledger.sessions) == 0  # nobody consumes without the lock
        wait_until(lambda: entries(broker_ledger.sessions) == scenario.valid_events, TIMEOUT_S,
                   "every valid event once the lock is free again")
        assert consumer.terminate() == 0, consumer.log()
    with broker_ledger.sessions() as session:
        assert audit_chain(session).intact
    assert scenario.balances_match(broker_ledger.sessions, broker_platform.code)


@contextmanager
def _lock_taken_from(database_url: str) -> Iterator[None]:
    """End the consumer's lock session and hold the lock here, as a consumer taking over would."""
    url = make_url(database_url)
    with psycopg.connect(host=url.host, port=url.port or 5432, user=url.username,
                         dbname=url.database, autocommit=True) as connection:
        deadline = time.monotonic() + TIMEOUT_S
        while True:
            _end_lock_sessions(database_url)
            taken = connection.execute("SELECT pg_try_advisory_lock(%s)",
                                       (CONSUMER_LOCK_KEY,)).fetchone()
            if taken is not None and taken[0]:
                break
            assert time.monotonic() < deadline, "the consumer kept taking the lock back"
        yield


def test_a_consumer_taking_over_starts_only_once_the_previous_ones_messages_are_back(
        broker_ledger: Ledger, broker_platform: PlatformFixture, amqp_url: str,
        postgres_url: str, consumer_env: dict[str, str], tmp_path: Path) -> None:
    """The first consumer's lock session ends while its batch of awards waits for the chain
    lock; a second consumer takes the lock, and then revocations of those awards arrive. The
    second consumer starts only once the first has given its messages back, so it appends the
    awards before their revocations instead of refusing these as unknown_revocation_target."""
    awards = [broker_platform.event() for _ in range(20)]
    revocations = [broker_platform.event(type="points.revoked", resident=award["resident"],
                                         points=award["points"], category=award["category"],
                                         revokes=award["event_id"]) for award in awards[:6]]
    with running_consumer(consumer_env, tmp_path / "first.log") as first, \
            broker_ledger.engine.connect() as other_appender:
        first.wait_until_consuming(amqp_url)
        other_appender.execute(text("SELECT pg_advisory_lock(:key)"), {"key": CHAIN_LOCK_KEY})
        publish(amqp_url, [Published("points.awarded", broker_platform.signed(award))
                           for award in awards])
        wait_until(lambda: queue_ready(amqp_url) == 0, TIMEOUT_S, "the first to take the awards")
        assert _end_lock_sessions(postgres_url) == 1  # a database restart, say

        with running_consumer(consumer_env, tmp_path / "second.log") as second:
            wait_until(lambda: WAITING_FOR_THE_PREVIOUS in second.log(), TIMEOUT_S,
                       "the second to take the lock and wait for the first's messages")
            # One at a time: while the first still consumes, the broker shares them out.
            for revocation in revocations:
                publish(amqp_url, [Published("points.revoked",
                                             broker_platform.signed(revocation))])
            other_appender.execute(text("SELECT pg_advisory_unlock(:key)"),
                                   {"key": CHAIN_LOCK_KEY})
            wait_until(lambda: entries(broker_ledger.sessions) == len(awards) + len(revocations),
                       TIMEOUT_S, "the awards and their revocations")
            assert "giving way" in first.log()
            assert second.terminate() == 0, second.log()
        assert first.terminate() == 0, first.log()

    assert rejections(broker_ledger.sessions) == []
    with broker_ledger.sessions() as session:
        assert audit_chain(session).intact


def test_an_append_under_a_lock_another_consumer_took_is_refused(
        broker_ledger: Ledger, postgres_url: str) -> None:
    """The check inside the append transaction, on its own: the loser appends nothing."""
    loser, winner = ConsumerLock(broker_ledger.engine), ConsumerLock(broker_ledger.engine)
    try:
        assert loser.try_acquire()
        assert not winner.try_acquire()  # held: the winner stands by
        assert _end_lock_sessions(postgres_url) == 1
        assert winner.try_acquire()  # the loser's session ended: taken over

        with broker_ledger.sessions.begin() as session:
            winner.confirm_within(session)
        with pytest.raises(ConsumerLockLost), broker_ledger.sessions.begin() as session:
            loser.confirm_within(session)
    finally:
        loser.release()
        winner.release()


def test_a_consumer_standing_by_stops_on_sigterm(
        broker_ledger: Ledger, amqp_url: str, consumer_env: dict[str, str],
        tmp_path: Path) -> None:
    with running_consumer(consumer_env, tmp_path / "first.log") as first:
        first.wait_until_consuming(amqp_url)
        with running_consumer(consumer_env, tmp_path / "second.log") as second:
            wait_until(lambda: STANDING_BY in second.log(), TIMEOUT_S, "the second to stand by")
            assert second.terminate() == 0, second.log()
        assert first.alive()
        assert first.terminate() == 0, first.log()
