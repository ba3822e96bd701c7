"""The broker-mode API's EventQueue: publish a verified event to `pointsledger.events`.

Persistent, with publisher confirms and `mandatory`, so `publish` returning means the event is in
a durable queue; anything else raises QueueUnavailable and the API answers 503 (the platform keeps
the event and sends it again).

pika connections are not thread-safe: each thread (a gunicorn worker thread) gets its own
connection, opened on first use and kept. The publisher declares only the exchange it publishes
to: the queue and its arguments belong to `pointsledger amqp setup` and the consumer, and a
message that no queue takes is refused (unroutable) instead of being accepted into nowhere.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass

import pika
import pika.exceptions
from pika.adapters.blocking_connection import BlockingChannel

from ledger.infra.amqp.messages import event_properties
from ledger.infra.amqp.topology import (
    EVENTS_EXCHANGE,
    connection_parameters,
    declare_events_exchange,
)
from ledger.service.ports import QueueUnavailable

log = logging.getLogger(__name__)

# One retry on a fresh connection covers a connection the broker closed while it sat idle (a
# missed heartbeat, a broker restart); more would only hold the API request longer.
PUBLISH_ATTEMPTS_MAX = 2
CONNECTION_ROLE = "api"

# What pika raises when the connection or channel is unusable, or the broker refuses a message.
BROKER_ERRORS: tuple[type[BaseException], ...] = (pika.exceptions.AMQPError, OSError)


@dataclass
class _ThreadConnection:
    connection: pika.BlockingConnection
    channel: BlockingChannel


class EventPublisher:
    """Implements ledger.service.ports.EventQueue on RabbitMQ."""

    def __init__(self, amqp_url: str) -> None:
        self._amqp_url = amqp_url
        self._local = threading.local()
        self._all: list[_ThreadConnection] = []
        self._all_lock = threading.Lock()

    def publish(self, routing_key: str, message_id: str, body: bytes,
                headers: Mapping[str, str]) -> None:
        properties = event_properties(message_id, headers)
        failure: BaseException | None = None
        for _attempt in range(PUBLISH_ATTEMPTS_MAX):
            try:
                channel = self._thread_connection().channel
                channel.basic_publish(EVENTS_EXCHANGE, routing_key, body, properties,
                                      mandatory=True)
                return
            except BROKER_ERRORS as error:
                failure = error
                log.warning("publishing event %s failed (%s); reconnecting", message_id,
                            type(error).__name__)
                self._discard_thread_connection()
        raise QueueUnavailable(
            f"RabbitMQ did not take the event: {describe(failure)}") from failure

    def ready(self) -> bool:
        try:
            self._thread_connection().connection.process_data_events(time_limit=0)
        except BROKER_ERRORS as error:
            log.warning("RabbitMQ is not usable (%s)", type(error).__name__)
            self._discard_thread_connection()
            return False
        return True

    def close(self) -> None:
        """Close every thread's connection; call once no thread publishes any more (shutdown)."""
        with self._all_lock:
            opened, self._all = self._all, []
        for held in opened:
            _close_quietly(held.connection)
        self._local = threading.local()

    def _thread_connection(self) -> _ThreadConnection:
        held: _ThreadConnection | None = getattr(self._local, "held", None)
        if held is not None and held.channel.is_open:
            return held
        if held is not None:
            self._discard_thread_connection()
        connection = pika.BlockingConnection(connection_parameters(self._amqp_url,
                                                                   CONNECTION_ROLE))
        try:
            channel = connection.channel()
            channel.confirm_delivery()
            declare_events_exchange(channel)
        except BaseException:
            _close_quietly(connection)
            raise
        held = _ThreadConnection(connection, channel)
        self._local.held = held
        with self._all_lock:
            self._all.append(held)
        return held

    def _discard_thread_connection(self) -> None:
        held: _ThreadConnection | None = getattr(self._local, "held", None)
        self._local.held = None
        if held is None:
            return
        with self._all_lock:
            if held in self._all:
                self._all.remove(held)
        _close_quietly(held.connection)


def describe(error: BaseException | None) -> str:
    """One sentence for the API's problem detail; no message content."""
    if isinstance(error, pika.exceptions.UnroutableError):
        return "no queue is bound for it (is the topology declared? run `pointsledger amqp setup`)"
    if isinstance(error, pika.exceptions.NackError):
        return "the broker refused it (negative confirm)"
    if isinstance(error, pika.exceptions.ConnectionBlockedTimeout):
        return "the broker has blocked publishers (resource alarm)"
    if isinstance(error, pika.exceptions.ChannelClosedByBroker):
        return f"the broker closed the channel ({error.reply_code} {error.reply_text})"
    return f"the broker is not reachable ({type(error).__name__})"


def _close_quietly(connection: pika.BlockingConnection) -> None:
    try:
        if connection.is_open:
            connection.close()
    except BROKER_ERRORS as error:
        log.debug("closing a broker connection failed: %s", type(error).__name__)
