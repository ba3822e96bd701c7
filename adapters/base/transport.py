"""Where the outbox's events go: RabbitMQ (production), or into an embedded ledger (demo)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Protocol

import pika

from adapters.base.outbox.events import PendingEvent
from ledger.runtime.broker import BROKER_ERRORS, describe_broker_error
from ledger.runtime.pipelined import OutgoingMessage, PipelinedPublisher, PublishFailed
from ledger.runtime.topology import (
    EVENTS_EXCHANGE,
    connection_parameters,
    declare_ledger_topology,
    declare_outbound_topology,
)

log = logging.getLogger(__name__)


class TransportUnavailable(Exception):
    """The events were not (all) taken; they stay in the outbox and are sent again."""


NextBatch = Callable[[], Sequence[PendingEvent]]
OnTaken = Callable[[int], None]


class Transport(Protocol):
    def send(self, events: Sequence[PendingEvent]) -> None:
        """Return only once every event is safely taken (confirmed); else raise
        TransportUnavailable."""

    def send_stream(self, next_batch: NextBatch, on_taken: OnTaken) -> int:
        """Send batch after batch until `next_batch()` is empty; `on_taken(n)`: the first n
        events are safely taken. Returns how many were sent; raises TransportUnavailable."""

    def close(self) -> None: ...


class AmqpTransport:
    """Publishes to `pointsledger.events` with confirms and `mandatory`, pipelined."""

    def __init__(self, amqp_url: str, platform: str) -> None:
        self._amqp_url = amqp_url
        self._platform = platform
        self._role = f"adapter-{platform}"
        self._publisher = PipelinedPublisher(amqp_url, EVENTS_EXCHANGE, self._role)
        self._declared = False

    def send(self, events: Sequence[PendingEvent]) -> None:
        """Nothing to send only declares the topology (the publisher opens no connection)."""
        batches = iter([events])
        self.send_stream(lambda: next(batches, ()), lambda _taken: None)

    def send_stream(self, next_batch: NextBatch, on_taken: OnTaken) -> int:
        """Pipelined across batches: the next batch is read while the previous ones are still
        being confirmed (SPEC §11 `bench publish`)."""
        def next_chunk() -> list[OutgoingMessage]:
            return [OutgoingMessage(event.routing_key, event.event_id, event.body, event.headers)
                    for event in next_batch()]

        try:
            if not self._declared:
                self._declare()
            return self._publisher.publish_stream(next_chunk, on_taken)
        except PublishFailed as error:
            raise TransportUnavailable(str(error)) from None
        except BROKER_ERRORS as error:
            raise TransportUnavailable(describe_broker_error(error)) from None

    def _declare(self) -> None:
        """The topology of SPEC §5 the adapter relies on, so that nothing it publishes is
        unroutable on a fresh broker (adapters declare it too, §5)."""
        connection = pika.BlockingConnection(connection_parameters(self._amqp_url, self._role))
        try:
            channel = connection.channel()
            declare_ledger_topology(channel)
            declare_outbound_topology(channel, [self._platform])
        finally:
            if connection.is_open:
                connection.close()
        self._declared = True

    def close(self) -> None:
        self._publisher.close()


class DirectTransport:
    """Hands the events to a function (the embedded ledger's ingestion in the demo)."""

    def __init__(self, deliver: Callable[[Sequence[PendingEvent]], None]) -> None:
        self._deliver = deliver

    def send(self, events: Sequence[PendingEvent]) -> None:
        self._deliver(events)

    def send_stream(self, next_batch: NextBatch, on_taken: OnTaken) -> int:
        taken = 0
        while batch := next_batch():
            self._deliver(batch)
            taken += len(batch)
            on_taken(taken)
        return taken

    def close(self) -> None:
        pass
