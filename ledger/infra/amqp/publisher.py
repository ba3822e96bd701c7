"""The broker-mode API's EventQueue: publish a verified event to `pointsledger.events`.

Persistent, with publisher confirms and `mandatory`, so `publish` returning means the event is in
a durable queue; anything else raises QueueUnavailable and the API answers 503 (the platform keeps
the event and sends it again).

pika connections are not thread-safe: each thread (a gunicorn worker thread) gets its own
connection, opened on first use and kept while the thread lives. The publisher declares only the
exchange it publishes to: the queue and its arguments belong to `pointsledger amqp setup` and the
consumer, and a message that no queue takes is refused (unroutable) instead of being accepted
into nowhere.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass

import pika
import pika.exceptions
from pika.adapters.blocking_connection import BlockingChannel

from ledger.domain.ports import QueueUnavailable
from ledger.runtime.broker import BROKER_ERRORS, describe_broker_error, event_properties
from ledger.runtime.topology import (
    EVENTS_EXCHANGE,
    connection_parameters,
    declare_events_exchange,
)

log = logging.getLogger(__name__)

# One retry on a fresh connection covers a connection the broker closed while it sat idle (a
# missed heartbeat, a broker restart); more would only hold the API request longer.
PUBLISH_ATTEMPTS_MAX = 2
CONNECTION_ROLE = "api"


@dataclass
class _ThreadConnection:
    connection: pika.BlockingConnection
    channel: BlockingChannel


class EventPublisher:
    """Implements ledger.domain.ports.EventQueue on RabbitMQ."""

    def __init__(self, amqp_url: str) -> None:
        self._amqp_url = amqp_url
        self._by_thread: dict[threading.Thread, _ThreadConnection] = {}
        self._lock = threading.Lock()

    @property
    def open_connections(self) -> int:
        with self._lock:
            return len(self._by_thread)

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
                self._discard(threading.current_thread())
        raise QueueUnavailable(
            f"RabbitMQ did not take the event: {describe_broker_error(failure)}") from failure

    def ready(self) -> bool:
        try:
            self._thread_connection().connection.process_data_events(time_limit=0)
        except BROKER_ERRORS as error:
            log.warning("RabbitMQ is not usable (%s)", type(error).__name__)
            self._discard(threading.current_thread())
            return False
        return True

    def close(self) -> None:
        """Close every thread's connection; call once no thread publishes any more (shutdown)."""
        with self._lock:
            opened, self._by_thread = list(self._by_thread.values()), {}
        for held in opened:
            _close_quietly(held.connection)

    def _thread_connection(self) -> _ThreadConnection:
        thread = threading.current_thread()
        with self._lock:
            held = self._by_thread.get(thread)
        if held is not None and held.channel.is_open:
            return held
        if held is not None:
            self._discard(thread)
        self._close_connections_of_ended_threads()
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
        with self._lock:
            self._by_thread[thread] = held
        return held

    def _close_connections_of_ended_threads(self) -> None:
        """A server that starts a thread per request (the development server) would otherwise
        leave one connection open per request. Their threads are gone: nobody else uses them."""
        with self._lock:
            ended = [thread for thread in self._by_thread if not thread.is_alive()]
            orphaned = [self._by_thread.pop(thread) for thread in ended]
        for held in orphaned:
            _close_quietly(held.connection)

    def _discard(self, thread: threading.Thread) -> None:
        with self._lock:
            held = self._by_thread.pop(thread, None)
        if held is not None:
            _close_quietly(held.connection)


def _close_quietly(connection: pika.BlockingConnection) -> None:
    try:
        if connection.is_open:
            connection.close()
    except BROKER_ERRORS as error:
        log.debug("closing a broker connection failed: %s", type(error).__name__)
