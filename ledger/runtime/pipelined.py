"""Publish with pipelined confirms: a window of unconfirmed messages in flight on one channel.

A BlockingConnection in confirm mode waits for each confirm in turn, one quorum-queue fsync per
message; the asynchronous connection keeps `window` messages in flight, as a high-volume
publisher must. `PipelinedPublisher.publish` returns only once the broker confirmed every message
of the call, in order on one channel, and raises PublishFailed otherwise (then some of them may
have reached the queue: the caller publishes them again, and the ledger absorbs the duplicates).
The connection stays open between calls; after a failure the next call opens a new one.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pika
import pika.channel
import pika.exceptions
import pika.frame
import pika.spec

from ledger.runtime.broker import event_properties
from ledger.runtime.topology import connection_parameters

CONFIRM_WINDOW = 2000
PUBLISH_TIMEOUT_S = 300.0


@dataclass(frozen=True)
class OutgoingMessage:
    routing_key: str
    message_id: str
    body: bytes
    headers: dict[str, str]


class PublishFailed(Exception):
    """The broker did not confirm every message (nack, unroutable, closed, or timeout)."""


class PipelinedPublisher:
    def __init__(self, amqp_url: str, exchange: str, role: str,
                 window: int = CONFIRM_WINDOW, timeout_s: float = PUBLISH_TIMEOUT_S) -> None:
        self._parameters = connection_parameters(amqp_url, role)
        self._exchange = exchange
        self._window = window
        self._timeout_s = timeout_s
        self._connection: pika.SelectConnection | None = None
        self._channel: pika.channel.Channel | None = None
        self._source: Callable[[], Sequence[OutgoingMessage]] | None = None
        self._pending: deque[OutgoingMessage] = deque()
        self._on_confirmed: Callable[[int], None] | None = None
        self._unconfirmed: deque[int] = deque()
        # The delivery tag of the first message of the current call.
        self._first_tag = 1
        # Delivery tags count publishes from 1 over the channel's life, not per call.
        self._published = 0
        self._failure: str | None = None

    def publish(self, messages: Sequence[OutgoingMessage]) -> None:
        """Return once the broker confirmed every message; raise PublishFailed otherwise."""
        chunks = iter([messages])
        self.publish_stream(lambda: next(chunks, ()))

    def publish_stream(self, next_chunk: Callable[[], Sequence[OutgoingMessage]],
                       on_confirmed: Callable[[int], None] | None = None) -> int:
        """Publish chunk after chunk until `next_chunk()` returns an empty one; return how many.

        The next chunk is asked for while the window still has earlier ones in flight, so
        reading it (from a database, say) overlaps the broker's work instead of waiting for it.
        `on_confirmed(n)` says that the first n messages of this call are all confirmed; it is
        called as confirms arrive, so a caller can record progress before the end. Raises
        PublishFailed when the broker does not confirm them all. Nothing to publish opens no
        connection.
        """
        first = next_chunk()
        if not first:
            return 0
        self._source, self._pending, self._failure = next_chunk, deque(first), None
        self._on_confirmed = on_confirmed
        self._unconfirmed.clear()
        connection = self._connection
        if connection is None or connection.is_closed:
            connection = self._open()
        elif self._channel is not None and self._channel.is_open:
            connection.ioloop.add_callback_threadsafe(self._publish_more)
        self._first_tag = self._published + 1
        timeout = connection.ioloop.call_later(self._timeout_s,
                                               lambda: self._fail("timed out"))
        try:
            connection.ioloop.start()
        except BaseException:
            # A callback (the caller's chunk source or progress) failed inside the loop.
            self.close()
            raise
        finally:
            connection.ioloop.remove_timeout(timeout)
        if self._failure is None and self._in_flight():
            self._failure = "the connection closed before every message was confirmed"
        if self._failure is not None:
            self.close()
            raise PublishFailed(self._failure)
        return self._published - self._first_tag + 1

    def close(self) -> None:
        connection, self._connection, self._channel = self._connection, None, None
        if connection is None:
            return
        if not connection.is_closed:
            if not connection.is_closing:
                connection.close()
            connection.ioloop.start()  # until the close completes (_on_closed stops it)
        connection.ioloop.close()  # its wake-up socket pair

    # -- connection ------------------------------------------------------------------------

    def _open(self) -> pika.SelectConnection:
        self._channel = None
        self._published = 0
        self._first_tag = 1
        connection = pika.SelectConnection(
            self._parameters, on_open_callback=self._on_open,
            on_open_error_callback=self._on_open_error, on_close_callback=self._on_closed)
        self._connection = connection
        return connection

    def _on_open(self, connection: pika.connection.Connection) -> None:
        connection.channel(on_open_callback=self._on_channel_open)

    # These two stop the loop of the connection they are about, which `close()` has already
    # forgotten by the time its close completes.
    def _on_open_error(self, connection: pika.SelectConnection,
                       error: BaseException | str) -> None:
        self._failure = f"cannot connect to RabbitMQ: {error}"
        connection.ioloop.stop()

    def _on_closed(self, connection: pika.SelectConnection, reason: BaseException) -> None:
        if self._failure is None and self._in_flight():
            self._failure = f"the connection closed: {reason}"
        connection.ioloop.stop()

    def _on_channel_open(self, channel: pika.channel.Channel) -> None:
        self._channel = channel
        channel.add_on_return_callback(self._on_return)
        channel.add_on_close_callback(self._on_channel_closed)
        channel.confirm_delivery(self._on_confirm, callback=lambda _frame: self._publish_more())

    def _on_channel_closed(self, _channel: pika.channel.Channel, reason: BaseException) -> None:
        self._fail(f"the channel closed: {reason}")

    def _on_return(self, _channel: pika.channel.Channel, _method: pika.spec.Basic.Return,
                   properties: pika.spec.BasicProperties, _body: bytes) -> None:
        self._fail(f"message {properties.message_id} was unroutable")

    # -- publishing ------------------------------------------------------------------------

    def _in_flight(self) -> bool:
        return self._source is not None or bool(self._pending) or bool(self._unconfirmed)

    def _publish_more(self) -> None:
        channel = self._channel
        if channel is None or self._failure is not None:
            return
        while len(self._unconfirmed) < self._window:
            if not self._pending:
                if self._source is None:
                    break
                chunk = self._source()
                if not chunk:
                    self._source = None
                    break
                self._pending.extend(chunk)
            message = self._pending.popleft()
            channel.basic_publish(self._exchange, message.routing_key, message.body,
                                  event_properties(message.message_id, message.headers),
                                  mandatory=True)
            self._published += 1
            self._unconfirmed.append(self._published)
        if not self._in_flight():
            self._stop_loop()

    def _on_confirm(self, frame: pika.frame.Method[pika.spec.Basic.Ack | pika.spec.Basic.Nack],
                    ) -> None:
        method = frame.method
        if isinstance(method, pika.spec.Basic.Nack):
            self._fail(f"the broker refused message {method.delivery_tag}")
            return
        if method.multiple:
            while self._unconfirmed and self._unconfirmed[0] <= method.delivery_tag:
                self._unconfirmed.popleft()
        elif method.delivery_tag in self._unconfirmed:
            self._unconfirmed.remove(method.delivery_tag)
        if self._on_confirmed is not None:
            # Every tag below the oldest unconfirmed one is confirmed.
            confirmed_through = self._unconfirmed[0] - 1 if self._unconfirmed else self._published
            self._on_confirmed(confirmed_through - self._first_tag + 1)
        self._publish_more()

    def _fail(self, reason: str) -> None:
        if self._failure is None:
            self._failure = reason
        self._stop_loop()

    def _stop_loop(self) -> None:
        if self._connection is not None:
            self._connection.ioloop.stop()


def publish_pipelined(amqp_url: str, exchange: str, messages: Sequence[OutgoingMessage],
                      role: str = "bench") -> None:
    """Publish once on a connection of its own (test and benchmark set-up)."""
    publisher = PipelinedPublisher(amqp_url, exchange, role)
    try:
        publisher.publish(messages)
    finally:
        publisher.close()
