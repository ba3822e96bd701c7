"""`pointsledger adapter run` under faults: killed with SIGKILL while publishing its backlog, and
the broker stopped outright while records keep arriving. Every record the platform sent is
recorded exactly once (platform seqs 1..N, no gap, no double), the balances add up to what the
adapter signed, and nothing is rejected."""

from __future__ import annotations

import json
import random
import signal
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pika
import pika.exceptions
import pytest
from sqlalchemy import select

from adapters.lijiayuan import generate as generate_lijiayuan_records
from adapters.lijiayuan.simulator import deliver
from adapters.pingan_gongfu import generate as generate_pingan_records
from ledger.bootstrap import Ledger
from ledger.infra.db.models import LedgerEntryRow
from ledger.runtime.topology import LEDGER_QUEUE, connection_parameters
from tests.amqp.adapter_runs import (
    AdapterRun,
    AdapterSetup,
    adapter_setup,
    assert_ledger_holds_exactly,
    consumer_outcomes,
    outbox_status,
    platform_entries,
    running_adapter,
)
from tests.amqp.support import ready_messages, running_consumer, wait_until
from tests.support import rabbitmqctl
from tests.throttled_relay import ThrottledRelay, throttled_relay

pytestmark = [pytest.mark.postgres, pytest.mark.rabbitmq]

PLATFORM = "lijiayuan"
LISTEN = ("--listen", "127.0.0.1:0")
RECORDS_UNDER_KILL = 4000
DELIVERY_BATCH = 200
# No broker listens there: connecting is refused at once, and the adapter keeps the records.
UNREACHABLE_AMQP_URL = "amqp://guest:guest@127.0.0.1:1/%2F"
PUBLISH_TIMEOUT_S = 120.0
KILL_POLL_INTERVAL_S = 0.002
# About 2.5 MB cross for the backlog: seconds over this link, and a chunk is always in flight.
SLOW_LINK_BYTES_PER_S = 500_000
RECORDS_BEFORE_STOP = 200
RECORDS_WHILE_STOPPED = 600
BROKER_START_TIMEOUT_S = 120.0


def _records(count: int, seed: int) -> list[dict[str, object]]:
    return generate_lijiayuan_records(random.Random(seed), count, 0, datetime.now(UTC))


def _over_the_relay(amqp_url: str, relay: ThrottledRelay) -> str:
    parts = urlsplit(amqp_url)
    credentials = parts.netloc.rpartition("@")[0]
    return urlunsplit(parts._replace(netloc=f"{credentials}@127.0.0.1:{relay.port}"))


def _kill_once_the_first_chunk_is_confirmed(adapter: AdapterRun, setup: AdapterSetup,
                                            relay: ThrottledRelay) -> dict[str, int]:
    """SIGKILL as soon as the outbox marks its first chunk confirmed: the pump reads ahead, so
    the next chunk is then crossing the slow relay, partly queued, unconfirmed. The outbox as
    the killed process left it."""
    wait_until(lambda: not adapter.alive() or outbox_status(setup)["published_through"] > 0,
               PUBLISH_TIMEOUT_S, "the first chunk to be confirmed",
               interval_s=KILL_POLL_INTERVAL_S)
    adapter.process.send_signal(signal.SIGKILL)
    assert adapter.process.wait(timeout=10) == -signal.SIGKILL, adapter.log()
    wait_until(relay.idle, PUBLISH_TIMEOUT_S, "the relay to forward what it held")
    return outbox_status(setup)


def test_an_adapter_killed_while_publishing_loses_and_doubles_nothing(
        broker_ledger: Ledger, amqp_url: str, consumer_env: dict[str, str],
        tmp_path: Path) -> None:
    setup = adapter_setup(broker_ledger.sessions, PLATFORM, consumer_env, tmp_path)
    # The platform pushes while no broker is reachable: the outbox holds the whole backlog.
    offline = {**setup.environment, "POINTSLEDGER_AMQP_URL": UNREACHABLE_AMQP_URL}
    with running_adapter(setup, LISTEN, tmp_path / "offline.log", offline) as adapter:
        deliver(_records(RECORDS_UNDER_KILL, seed=3), adapter.base_url() + "/webhook",
                batch=DELIVERY_BATCH)
        assert outbox_status(setup) == {"backlog": RECORDS_UNDER_KILL,
                                        "last_seq": RECORDS_UNDER_KILL, "published_through": 0}
        assert adapter.terminate() == 0, adapter.log()

    broker = urlsplit(amqp_url)
    with throttled_relay((broker.hostname or "127.0.0.1", broker.port or 5672),
                         SLOW_LINK_BYTES_PER_S) as relay:
        slow = {**setup.environment, "POINTSLEDGER_AMQP_URL": _over_the_relay(amqp_url, relay)}
        with running_adapter(setup, LISTEN, tmp_path / "killed.log", slow) as adapter:
            at_kill = _kill_once_the_first_chunk_is_confirmed(adapter, setup, relay)
    # No consumer yet: the queue holds exactly what reached the broker before the kill.
    queued = ready_messages(amqp_url, LEDGER_QUEUE)
    assert at_kill["published_through"] < queued < RECORDS_UNDER_KILL, \
        f"the kill should leave a chunk half sent: {queued} queued, {at_kill}"

    with running_consumer(consumer_env, tmp_path / "consumer.log") as consumer, \
            running_adapter(setup, LISTEN, tmp_path / "restarted.log") as adapter:
        wait_until(lambda: outbox_status(setup)["backlog"] == 0, PUBLISH_TIMEOUT_S,
                   "the rest of the backlog to be confirmed")
        wait_until(lambda: platform_entries(broker_ledger.sessions, PLATFORM)
                   >= RECORDS_UNDER_KILL, PUBLISH_TIMEOUT_S, "every event in the ledger")
        assert adapter.terminate() == 0, adapter.log()
        assert consumer.terminate() == 0, consumer.log()

    recorded, duplicates, rejected = consumer_outcomes(consumer.log())
    assert (recorded, rejected) == (RECORDS_UNDER_KILL, 0)
    # Those the killed adapter had sent but not seen confirmed were sent again, and absorbed.
    assert duplicates == queued - at_kill["published_through"]
    assert outbox_status(setup)["published_through"] == RECORDS_UNDER_KILL
    assert_ledger_holds_exactly(broker_ledger.sessions, setup)


def _push(url: str, records: list[dict[str, object]]) -> dict[str, object]:
    """One push of the platform: the adapter's answer, which must be 200."""
    request = urllib.request.Request(url, data=json.dumps(records).encode("utf-8"),
                                     headers={"Content-Type": "application/json"},
                                     method="POST")
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200
        report: dict[str, object] = json.load(response)
    return report


def _broker_accepts(amqp_url: str) -> bool:
    try:
        connection = pika.BlockingConnection(connection_parameters(amqp_url, "test"))
    except pika.exceptions.AMQPError:
        return False
    connection.close()
    return True


def _start_broker_again(amqp_url: str) -> None:
    """Whatever happened: the broker other tests share is running and accepts connections."""
    rabbitmqctl("start_app")
    rabbitmqctl("await_startup")
    wait_until(lambda: _broker_accepts(amqp_url), BROKER_START_TIMEOUT_S,
               "the broker to accept connections", interval_s=0.5)


def _platform_seqs_in_ledger_order(ledger: Ledger, platform: str) -> list[int]:
    with ledger.sessions() as session:
        return [seq for seq in session.scalars(
            select(LedgerEntryRow.platform_seq).where(LedgerEntryRow.platform == platform)
            .order_by(LedgerEntryRow.seq)) if seq is not None]


@pytest.mark.slow
@pytest.mark.rabbitmq
def test_an_adapter_keeps_accepting_while_the_broker_is_stopped_and_publishes_after(
        broker_ledger: Ledger, amqp_url: str, consumer_env: dict[str, str],
        tmp_path: Path) -> None:
    platform = "pingan_gongfu"
    total = RECORDS_BEFORE_STOP + RECORDS_WHILE_STOPPED
    records = generate_pingan_records(random.Random(9), total, 0, datetime.now(UTC))
    setup = adapter_setup(broker_ledger.sessions, platform, consumer_env, tmp_path)
    with running_consumer(consumer_env, tmp_path / "consumer.log") as consumer, \
            running_adapter(setup, LISTEN, tmp_path / "adapter.log") as adapter:
        url = adapter.base_url() + "/activities"
        consumer.wait_until_consuming(amqp_url)
        _push(url, records[:RECORDS_BEFORE_STOP])
        wait_until(lambda: platform_entries(broker_ledger.sessions, platform)
                   == RECORDS_BEFORE_STOP, PUBLISH_TIMEOUT_S, "the first records in the ledger")

        try:
            rabbitmqctl("stop_app")
            for start in range(RECORDS_BEFORE_STOP, total, DELIVERY_BATCH):
                batch = records[start:start + DELIVERY_BATCH]
                assert _push(url, batch)["accepted"] == len(batch)
                assert outbox_status(setup)["backlog"] == start + len(batch) \
                    - RECORDS_BEFORE_STOP
        finally:
            _start_broker_again(amqp_url)

        wait_until(lambda: outbox_status(setup)["backlog"] == 0, PUBLISH_TIMEOUT_S,
                   "the backlog to be confirmed once the broker is back")
        wait_until(lambda: platform_entries(broker_ledger.sessions, platform) >= total,
                   PUBLISH_TIMEOUT_S, "every event in the ledger")
        assert adapter.terminate() == 0, adapter.log()
        assert consumer.terminate() == 0, consumer.log()

    assert "cannot publish" in adapter.log() and "publishing again" in adapter.log()
    # The backlog went out oldest first: the ledger recorded it in the adapter's seq order.
    recorded_while_stopped = [seq for seq in _platform_seqs_in_ledger_order(broker_ledger,
                                                                            platform)
                              if seq > RECORDS_BEFORE_STOP]
    assert recorded_while_stopped == list(range(RECORDS_BEFORE_STOP + 1, total + 1))
    assert outbox_status(setup)["published_through"] == total
    assert_ledger_holds_exactly(broker_ledger.sessions, setup)
