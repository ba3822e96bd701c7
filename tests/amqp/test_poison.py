"""A message the ledger cannot process goes to `pointsledger.dead` after the queue's delivery
limit, instead of coming back forever; the other messages of its batches are recorded."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import pika
import pytest

from ledger.bootstrap import Ledger
from ledger.domain.outcomes import Outcome
from ledger.domain.verification import Delivery, VerifiedEvent
from ledger.runtime.topology import DEAD_QUEUE, DELIVERY_LIMIT, connection_parameters
from ledger.service.ingest import Guard, Ingestor
from ledger.worker.loop import LedgerConsumer
from tests.amqp.support import Published, entries, publish, ready_messages, wait_until
from tests.support import PlatformFixture

pytestmark = [pytest.mark.postgres, pytest.mark.rabbitmq]

WAIT_S = 60.0


class IngestorWithAPoisonEvent(Ingestor):
    """Fails, like a bug would, on every batch that holds one given event."""

    def __init__(self, ledger: Ledger, poison_event_id: str) -> None:
        super().__init__(ledger.sessions, ledger.settings.clock_skew_s,
                         ledger.settings.retired_key_grace_s, ledger.clock)
        self.poison_event_id = poison_event_id
        self.poison_alone_attempts = 0

    def ingest(self, deliveries: Sequence[Delivery], *,
               verified: Sequence[VerifiedEvent | Outcome] | None = None,
               guard: Guard | None = None) -> list[Outcome]:
        ids = [delivery.headers.get("webhook-id") for delivery in deliveries]
        if self.poison_event_id in ids:
            self.poison_alone_attempts += len(ids) == 1
            raise RuntimeError("injected fault")
        return super().ingest(deliveries, verified=verified, guard=guard)


def _dead_letters(amqp_url: str) -> list[str | None]:
    connection = pika.BlockingConnection(connection_parameters(amqp_url, "test"))
    try:
        channel = connection.channel()
        message_ids = []
        while True:
            method, properties, _body = channel.basic_get(DEAD_QUEUE, auto_ack=False)
            if method is None:
                return message_ids
            message_ids.append(properties.message_id)
    finally:
        connection.close()  # unacked: they stay in the dead-letter queue


def test_a_poison_message_is_dead_lettered_after_the_delivery_limit(
        broker_ledger: Ledger, broker_platform: PlatformFixture, amqp_url: str) -> None:
    signed = [broker_platform.signed(broker_platform.event()) for _ in range(30)]
    poison = signed[6]
    ingestor = IngestorWithAPoisonEvent(broker_ledger, poison.event_id)
    consumer = LedgerConsumer(amqp_url, ingestor)
    thread = threading.Thread(target=consumer.run, name="consumer")
    thread.start()
    try:
        publish(amqp_url, [Published("points.awarded", event) for event in signed])
        wait_until(lambda: ready_messages(amqp_url, DEAD_QUEUE) == 1, WAIT_S,
                   "the poison message in the dead-letter queue")
        wait_until(lambda: entries(broker_ledger.sessions) == len(signed) - 1, WAIT_S,
                   "every other event to be recorded")
    finally:
        consumer.stop()
        thread.join(timeout=WAIT_S)
    assert not thread.is_alive()

    assert _dead_letters(amqp_url) == [poison.event_id]
    # Delivered once, then redelivered `x-delivery-limit` times (RabbitMQ 3.10 dead-letters when
    # the redelivery count passes the limit), each time refused on its own.
    assert ingestor.poison_alone_attempts == DELIVERY_LIMIT + 1
