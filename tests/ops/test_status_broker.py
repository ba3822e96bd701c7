"""`pointsledger status` in broker mode (SPEC §15): the depth of every queue of §5 asked of
RabbitMQ, dead letters and a broker that cannot be reached each named as a problem, exit 1."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ledger.bootstrap import Ledger
from ledger.service.checkpoints import CheckpointPolicy
from ledger.service.status import gather_status
from ledger.worker.checkpointer import Checkpointer
from tests.amqp.support import dead_letter
from tests.ledger.helpers import invoke
from tests.silent_broker import silent_broker
from tests.support import PlatformFixture, register_platform

pytestmark = [pytest.mark.postgres, pytest.mark.rabbitmq]

QUEUES = ["pointsledger.ledger", "pointsledger.dead", "pointsledger.outbound.lijiayuan"]
# Far above the probe's bound (ledger.infra.amqp.queue_depths.PROBE_TIMEOUT_S, 3 s) and below
# the 15 s a consumer's connection waits for a handshake: a test that fails rather than hangs.
ANSWER_WITHIN_S = 12.0


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # anything a command writes to var/ stays in the test's directory




def test_all_is_well_with_every_queue_empty(broker_ledger: Ledger, broker_platform: PlatformFixture,
                                            postgres_url: str, amqp_url: str) -> None:
    broker_ledger.ingestor.ingest([broker_platform.delivery(seq=1)])
    Checkpointer(broker_ledger, CheckpointPolicy(interval_s=0, poll_s=0)).sign_due()

    result = invoke(postgres_url, "status", amqp_url=amqp_url)

    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["mode"] == "broker"
    assert document["queues"] == dict.fromkeys(QUEUES, 0)
    assert document["problems"] == []


def test_dead_letters_exit_1_naming_them(broker_ledger: Ledger, broker_platform: PlatformFixture,
                                         postgres_url: str, amqp_url: str) -> None:
    dead_letter(amqp_url)

    result = invoke(postgres_url, "status", amqp_url=amqp_url)

    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert document["queues"]["pointsledger.dead"] == 1
    assert document["problems"] == [
        "1 message(s) wait in pointsledger.dead: the consumer could not process them"]


def test_a_queue_never_declared_is_named(broker_ledger: Ledger, broker_platform: PlatformFixture,
                                         amqp_url: str) -> None:
    register_platform(broker_ledger.sessions, "wuhe", "五和", "五和镇")  # after `amqp setup`

    found = gather_status(broker_ledger.sessions, amqp_url, datetime.now(UTC))

    assert found.queues is not None and found.queues["pointsledger.outbound.wuhe"] is None
    assert found.queues["pointsledger.ledger"] == 0  # asked on a new channel after the 404
    assert [problem.sentence for problem in found.problems] == [
        "the queue pointsledger.outbound.wuhe is not declared (run `pointsledger amqp setup`)"]


def test_a_broker_that_cannot_be_reached_exits_1_saying_so(
        broker_ledger: Ledger, broker_platform: PlatformFixture, postgres_url: str) -> None:
    result = invoke(postgres_url, "status", amqp_url="amqp://guest:guest@127.0.0.1:1/")

    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert document["queues"] is None
    assert document["database"] == {"reachable": True}
    (sentence,) = document["problems"]
    assert sentence.startswith("the broker cannot be reached")


def test_without_the_database_the_broker_is_still_asked(
        broker_ledger: Ledger, broker_platform: PlatformFixture, amqp_url: str) -> None:
    dead_letter(amqp_url)

    result = invoke("postgresql+psycopg://postgres@127.0.0.1:1/nothing", "status",
                    amqp_url=amqp_url)

    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert document["queues"] == {"pointsledger.ledger": 0, "pointsledger.dead": 1}
    assert [sentence.split(":")[0] for sentence in document["problems"]] == [
        "the database cannot be reached or read", "1 message(s) wait in pointsledger.dead"]


def test_a_broker_that_accepts_but_never_answers_is_unreachable_within_seconds(
        broker_ledger: Ledger, broker_platform: PlatformFixture, postgres_url: str) -> None:
    """The status pages ask the broker on every load: one that takes the connection and then
    hangs must be reported, not wait out the connection timeouts of the consumer."""
    with silent_broker() as broker:
        started = time.monotonic()
        result = invoke(postgres_url, "status", amqp_url=broker.url)
        took_s = time.monotonic() - started
        assert broker.accepted == 1  # it got as far as the handshake: not a refused port

    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert document["queues"] is None
    assert document["database"] == {"reachable": True}
    assert document["platforms"]["lijiayuan"]["last_seq"] == 0  # the database's facts stand
    assert document["problems"] == [
        "the broker cannot be reached: the broker accepted the connection but did not complete "
        "the AMQP handshake in time"]
    assert took_s < ANSWER_WITHIN_S
