"""Publish many messages with pipelined confirms (a window of unconfirmed messages in flight).

A BlockingConnection waits for each confirm in turn, one quorum-queue fsync per message; the
asynchronous connection keeps `window` messages in flight, as a real high-volume publisher does.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

import pika
import pika.channel
import pika.exceptions
import pika.frame
import pika.spec

from ledger.infra.amqp.messages import event_properties

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
    def __init__(self, parameters: pika.URLParameters, exchange: str,
                 messages: Sequence[OutgoingMessage], window: int = CONFIRM_WINDOW,
                 timeout_s: float = PUBLISH_TIMEOUT_S) -> None:
        self._parameters = parameters
        self._exchange = exchange
        self._messages = messages
        self._window = window
        self._timeout_s = timeout_s
        self._next = 0
        self._unconfirmed: deque[int] = deque()
        self._failure: str | None = None
        self._connection: pika.SelectConnection | None = None
        self._channel: pika.channel.Channel | None = None

    def run(self) -> None:
        """Return once the broker confirmed every message; raise PublishFailed otherwise."""
        connection = pika.SelectConnection(
            self._parameters, on_open_callback=self._on_open,
            on_open_error_callback=self._on_open_error, on_close_callback=self._on_closed)
        self._connection = connection
        connection.ioloop.call_later(self._timeout_s, lambda: self._fail("timed out"))
        try:
            connection.ioloop.start()
        finally:
            connection.ioloop.close()  # its wake-up socket pair
        if self._failure is not None:
            raise PublishFailed(self._failure)
        if self._next < len(self._messages) or self._unconfirmed:
            raise PublishFailed("the connection closed before every message was confirmed")

    def _on_open(self, connection: pika.connection.Connection) -> None:
        connection.channel(on_open_callback=self._on_channel_open)

    def _on_open_error(self, _connection: pika.connection.Connection,
                       error: BaseException | str) -> None:
        self._failure = f"cannot connect to RabbitMQ: {error}"
        assert self._connection is not None
        self._connection.ioloop.stop()

    def _on_closed(self, _connection: pika.connection.Connection, reason: BaseException) -> None:
        if self._failure is None and (self._next < len(self._messages) or self._unconfirmed):
            self._failure = f"the connection closed: {reason}"
        assert self._connection is not None
        self._connection.ioloop.stop()

    def _on_channel_open(self, channel: pika.channel.Channel) -> None:
        self._channel = channel
        channel.add_on_return_callback(self._on_return)
        channel.add_on_close_callback(self._on_channel_closed)
        channel.confirm_delivery(self._on_confirm, callback=lambda _frame: self._publish_more())

    def _on_channel_closed(self, _channel: pika.channel.Channel, reason: BaseException) -> None:
        if self._failure is None and (self._next < len(self._messages) or self._unconfirmed):
            self._fail(f"the channel closed: {reason}")

    def _on_return(self, _channel: pika.channel.Channel, _method: pika.spec.Basic.Return,
                   properties: pika.spec.BasicProperties, _body: bytes) -> None:
        self._fail(f"message {properties.message_id} was unroutable")

    def _publish_more(self) -> None:
        channel = self._channel
        assert channel is not None
        while self._next < len(self._messages) and len(self._unconfirmed) < self._window:
            message = self._messages[self._next]
            channel.basic_publish(self._exchange, message.routing_key, message.body,
                                  event_properties(message.message_id, message.headers),
                                  mandatory=True)
            self._next += 1
            self._unconfirmed.append(self._next)  # delivery tags count publishes from 1
        if self._next == len(self._messages) and not self._unconfirmed:
            self._close()

    def _on_confirm(self, frame: pika.frame.Method[pika.spec.Basic.Ack | pika.spec.Basic.Nack],
                    ) -> None:
        method = frame.method
        if isinstance(method, pika.spec.Basic.Nack):
            self._fail(f"the broker refused message {method.delivery_tag}")
            return
        if method.multiple:
            while self._unconfirmed and self._unconfirmed[0] <= method.delivery_tag:
                self._unconfirmed.popleft()
        else:
            self._unconfirmed.remove(method.delivery_tag)
        self._publish_more()

    def _fail(self, reason: str) -> None:
        if self._failure is None:
            self._failure = reason
        self._close()

    def _close(self) -> None:
        connection = self._connection
        if connection is not None and not (connection.is_closing or connection.is_closed):
            connection.close()


def publish_pipelined(parameters: pika.URLParameters, exchange: str,
                      messages: Sequence[OutgoingMessage]) -> None:
    PipelinedPublisher(parameters, exchange, messages).run()
