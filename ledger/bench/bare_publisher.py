"""The publish benchmark's yardstick: bare pika publishing messages with pipelined confirms.

Written on pika alone, in the shape of pika's asynchronous publisher example, and deliberately
not on `ledger.runtime.pipelined`: a yardstick that shared the adapter's publisher would
share its inefficiencies too, and the ratio would hide them. It is what an experienced pika
user writes: one SelectConnection, a channel in confirm mode, `window` messages in flight,
publishing more as the broker confirms, every message persistent and `mandatory`, all the
messages in memory from the start.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pika
import pika.channel
import pika.connection
import pika.frame
import pika.spec

PUBLISH_TIMEOUT_S = 300.0
CONTENT_TYPE = "application/json"


@dataclass(frozen=True)
class BareMessage:
    routing_key: str
    message_id: str
    body: bytes
    headers: Mapping[str, str]


class BarePublishFailed(Exception):
    """The broker did not confirm every message (nack, unroutable, closed, or timeout)."""


def publish_with_confirm_window(parameters: pika.connection.Parameters, exchange: str,
                                messages: Sequence[BareMessage], window: int) -> float:
    """Publish every message on a new connection; return the seconds from opening the
    connection to the last confirm (closing it is not counted)."""
    if not messages:
        raise ValueError("nothing to publish: the time to the last confirm is undefined")
    publisher = _ConfirmWindowPublisher(parameters, exchange, messages, window)
    return publisher.run()


class _ConfirmWindowPublisher:
    def __init__(self, parameters: pika.connection.Parameters, exchange: str,
                 messages: Sequence[BareMessage], window: int) -> None:
        self._parameters = parameters
        self._exchange = exchange
        self._messages = messages
        self._window = window
        self._channel: pika.channel.Channel | None = None
        self._next = 0
        self._unconfirmed: deque[int] = deque()
        self._failure: str | None = None
        self._started = 0.0
        self._finished = 0.0

    def run(self) -> float:
        self._started = time.perf_counter()
        connection = pika.SelectConnection(
            self._parameters, on_open_callback=self._on_open,
            on_open_error_callback=self._on_open_error, on_close_callback=self._on_closed)
        timeout = connection.ioloop.call_later(PUBLISH_TIMEOUT_S,
                                               lambda: self._finish(connection, "timed out"))
        try:
            connection.ioloop.start()  # until _on_closed
        finally:
            connection.ioloop.remove_timeout(timeout)
            connection.ioloop.close()
        if self._failure is not None:
            raise BarePublishFailed(self._failure)
        return self._finished - self._started

    def _on_open(self, connection: pika.connection.Connection) -> None:
        connection.channel(on_open_callback=self._on_channel_open)

    def _on_open_error(self, connection: pika.SelectConnection,
                       error: BaseException | str) -> None:
        self._failure = f"cannot connect to RabbitMQ: {error}"
        connection.ioloop.stop()

    def _on_closed(self, connection: pika.SelectConnection, reason: BaseException) -> None:
        if self._finished == 0.0 and self._failure is None:
            self._failure = f"the connection closed: {reason}"
        connection.ioloop.stop()

    def _on_channel_open(self, channel: pika.channel.Channel) -> None:
        self._channel = channel
        channel.add_on_return_callback(self._on_return)
        channel.confirm_delivery(self._on_confirm, callback=lambda _frame: self._publish_more())

    def _on_return(self, channel: pika.channel.Channel, _method: pika.spec.Basic.Return,
                   properties: pika.spec.BasicProperties, _body: bytes) -> None:
        self._finish(channel.connection, f"message {properties.message_id} was unroutable")

    def _publish_more(self) -> None:
        channel = self._channel
        assert channel is not None
        while self._next < len(self._messages) and len(self._unconfirmed) < self._window:
            message = self._messages[self._next]
            properties = pika.BasicProperties(
                delivery_mode=pika.DeliveryMode.Persistent, content_type=CONTENT_TYPE,
                message_id=message.message_id, headers=dict(message.headers))
            channel.basic_publish(self._exchange, message.routing_key, message.body,
                                  properties, mandatory=True)
            self._next += 1
            # Delivery tags number the channel's publishes from 1.
            self._unconfirmed.append(self._next)

    def _on_confirm(self, frame: pika.frame.Method[pika.spec.Basic.Ack | pika.spec.Basic.Nack],
                    ) -> None:
        method = frame.method
        assert self._channel is not None
        if isinstance(method, pika.spec.Basic.Nack):
            self._finish(self._channel.connection,
                         f"the broker refused message {method.delivery_tag}")
            return
        if method.multiple:
            while self._unconfirmed and self._unconfirmed[0] <= method.delivery_tag:
                self._unconfirmed.popleft()
        elif method.delivery_tag in self._unconfirmed:
            self._unconfirmed.remove(method.delivery_tag)
        if self._next == len(self._messages) and not self._unconfirmed:
            self._finish(self._channel.connection)
        else:
            self._publish_more()

    def _finish(self, connection: pika.connection.Connection,
                failure: str | None = None) -> None:
        """Note the time (or the failure) and close; `_on_closed` then stops the loop."""
        if self._finished == 0.0:
            self._finished = time.perf_counter()
        if failure is not None and self._failure is None:
            self._failure = failure
        if not (connection.is_closing or connection.is_closed):
            connection.close()
