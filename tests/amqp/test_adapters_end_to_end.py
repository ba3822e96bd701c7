"""Each platform's native records → its adapter → RabbitMQ → the ledger consumer → balances;
and a broker connection closed under the adapter's publisher loses and doubles nothing."""

from __future__ import annotations

import json
import os
import random
import threading
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from adapters.base.intake import Intake
from adapters.base.outbox.database import Outbox
from adapters.base.pump import OutboxPump
from adapters.base.transport import AmqpTransport
from adapters.registry import PLATFORMS, adapter_module
from ledger.bootstrap import Ledger
from ledger.contract.categories import EntryKind
from ledger.infra.db.models import Balance
from tests.amqp.support import (
    connection_pids,
    entries,
    rabbitmqctl,
    rejections,
    running_consumer,
    wait_until,
)
from tests.support import TEST_PEPPER, register_platform

RECORDS = 60
RECORDS_UNDER_FAULT = 3000


def _adapter(ledger: Ledger, platform: str, tmp_path: Path) -> tuple[Intake, Outbox]:
    registered = register_platform(ledger.sessions, platform)
    outbox = Outbox(f"sqlite:///{tmp_path / f'{platform}.sqlite3'}", platform)
    module = adapter_module(platform)
    return Intake(module.Mapper(), outbox, registered.signer, TEST_PEPPER), outbox


def _feed(intake: Intake, platform: str, count: int, bad: int = 0) -> None:
    module = adapter_module(platform)
    records = module.generate(random.Random(5), count, bad, datetime.now(UTC))
    intake.accept(module.native_records(module.payload(records), "e2e"))


def _expected_spendable(outbox: Outbox) -> dict[str, int]:
    """Balances from what the adapter signed: awards add, deductions and revocations subtract."""
    totals: Counter[str] = Counter()
    for event in outbox.events.pending(100_000):
        body = json.loads(event.body)
        totals[body["resident"]] += EntryKind(body["type"]).delta_sign * body["points"]
    return dict(totals)


def _spendable(ledger: Ledger, platform: str) -> dict[str, int]:
    with ledger.sessions() as session:
        return {row.resident: row.spendable for row in session.scalars(
            select(Balance).where(Balance.platform == platform))}


@pytest.mark.parametrize("platform", PLATFORMS)
def test_native_records_reach_the_ledger_through_rabbitmq(
        platform: str, broker_ledger: Ledger, amqp_url: str, consumer_env: dict[str, str],
        tmp_path: Path) -> None:
    intake, outbox = _adapter(broker_ledger, platform, tmp_path)
    _feed(intake, platform, RECORDS, bad=4)
    expected = _expected_spendable(outbox)
    status = outbox.status()
    assert status["quarantined"] == 4 and status["backlog"] == status["last_seq"] > 0

    transport = AmqpTransport(amqp_url, platform)
    try:
        assert OutboxPump(outbox.events, transport).publish_pending() == status["last_seq"]
    finally:
        transport.close()
    assert outbox.status()["backlog"] == 0
    with running_consumer(consumer_env, tmp_path / "consumer.log") as consumer:
        consumer.wait_until_consuming(amqp_url)
        wait_until(lambda: entries(broker_ledger.sessions) == status["last_seq"], 60,
                   "every event in the ledger")
        assert consumer.terminate() == 0
    assert rejections(broker_ledger.sessions) == []
    assert _spendable(broker_ledger, platform) == expected
    outbox.close()


def test_a_connection_closed_mid_stream_loses_and_doubles_nothing(
        broker_ledger: Ledger, amqp_url: str, consumer_env: dict[str, str],
        tmp_path: Path) -> None:
    platform = "lijiayuan"
    intake, outbox = _adapter(broker_ledger, platform, tmp_path)
    _feed(intake, platform, RECORDS_UNDER_FAULT)
    last_seq = outbox.status()["last_seq"]
    expected = _expected_spendable(outbox)
    pump = OutboxPump(outbox.events, AmqpTransport(amqp_url, platform), chunk_size=100)
    publisher = threading.Thread(target=pump.run)
    with running_consumer(consumer_env, tmp_path / "consumer.log") as consumer:
        consumer.wait_until_consuming(amqp_url)
        publisher.start()
        name = f"pointsledger-adapter-{platform}-{os.getpid()}"
        # Closed after the first confirms, while most of the backlog is still to be published.
        wait_until(lambda: pump.published > 0, 30, "the first confirms")
        closed = 0
        for pid in connection_pids(amqp_url, name):
            rabbitmqctl("close_connection", pid, "test: connection closed mid-stream")
            closed += 1
        assert closed == 1
        wait_until(lambda: outbox.status()["backlog"] == 0, 120, "the backlog to be published")
        wait_until(lambda: entries(broker_ledger.sessions) == last_seq, 120,
                   "every event in the ledger")
        pump.stop()
        publisher.join(timeout=30)
        assert consumer.terminate() == 0
    assert outbox.status()["published_through"] == last_seq
    assert entries(broker_ledger.sessions) == last_seq  # each recorded once, duplicates absorbed
    assert rejections(broker_ledger.sessions) == []
    assert _spendable(broker_ledger, platform) == expected
    outbox.close()
