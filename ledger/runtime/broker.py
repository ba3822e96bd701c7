"""Messages on RabbitMQ as the ledger and the adapters send and read them: their properties, their
headers as text, what pika raises when the broker cannot be used and how to say it in one
sentence."""

from __future__ import annotations

from collections.abc import Mapping

import pika
import pika.exceptions
from pika.adapters.utils.connection_workflow import AMQPConnectorStackTimeout

CONTENT_TYPE = "application/json"

# The connection or channel is unusable, or the broker refused a message. A broker that accepts
# the TCP connection but never completes the AMQP handshake makes BlockingConnection raise the
# connection workflow's own timeout, which is neither an AMQPError nor an OSError.
BROKER_ERRORS: tuple[type[BaseException], ...] = (
    pika.exceptions.AMQPError, OSError, AMQPConnectorStackTimeout)
# The broker is there but will not let us in: wrong user or password, or no such vhost.
ACCESS_REFUSED_ERRORS: tuple[type[BaseException], ...] = (
    pika.exceptions.ProbableAuthenticationError, pika.exceptions.ProbableAccessDeniedError)


class BrokerAccessRefused(Exception):
    """POINTSLEDGER_AMQP_URL names credentials or a vhost the broker refuses."""


def describe_broker_error(error: BaseException | None) -> str:
    """Why, without any message content: the class, and the broker's reply when it gave one."""
    if isinstance(error, pika.exceptions.UnroutableError):
        return "no queue is bound for it (is the topology declared? run `pointsledger amqp setup`)"
    if isinstance(error, pika.exceptions.NackError):
        return "the broker refused it (negative confirm)"
    if isinstance(error, pika.exceptions.ConnectionBlockedTimeout):
        return "the broker has blocked publishers (resource alarm)"
    if isinstance(error, pika.exceptions.ChannelClosedByBroker):
        return f"the broker closed the channel ({error.reply_code} {error.reply_text})"
    if isinstance(error, AMQPConnectorStackTimeout):
        return "the broker accepted the connection but did not complete the AMQP handshake in time"
    if isinstance(error, pika.exceptions.ConnectionClosedByBroker):
        return f"the broker closed the connection ({error.reply_code} {error.reply_text})"
    return f"the broker is not reachable ({type(error).__name__})"


def event_properties(message_id: str, headers: Mapping[str, str]) -> pika.BasicProperties:
    """Persistent, JSON, the event id as message id, and the three Standard Webhooks headers."""
    return pika.BasicProperties(
        delivery_mode=pika.DeliveryMode.Persistent,
        content_type=CONTENT_TYPE,
        message_id=message_id,
        headers=dict(headers),
    )


def header_text(value: object) -> str:
    """AMQP table values arrive as str, bytes (not UTF-8, or sent as a byte array) or numbers."""
    if isinstance(value, str):
        return value
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8", errors="replace")
    return str(value)
