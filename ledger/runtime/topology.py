"""The RabbitMQ topology of SPEC §5, declared idempotently by setup, consumers and publishers.

Declaring twice with the same arguments is a no-op for RabbitMQ, but declaring a queue with
other arguments than it already has closes the channel (PRECONDITION_FAILED): every process must
take the names and arguments from here.

Dead-lettering from a quorum queue is at-most-once on RabbitMQ 3.10 by default: a poison message
is moved to `pointsledger.dead` without a publisher confirm, so a broker crash at that moment can
lose it. That is acceptable for poison messages: the event was never recorded, the platform's seq
gap shows it is missing (SPEC §6), and the platform still holds it. It keeps the queue's arguments
exactly those of SPEC §5 (at-least-once would need `x-overflow: reject-publish` as well).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

import pika
from pika.adapters.blocking_connection import BlockingChannel

EVENTS_EXCHANGE = "pointsledger.events"
LEDGER_QUEUE = "pointsledger.ledger"
DEAD_EXCHANGE = "pointsledger.dead"
DEAD_QUEUE = "pointsledger.dead"
OUTBOUND_EXCHANGE = "pointsledger.outbound"
OUTBOUND_QUEUE_PREFIX = "pointsledger.outbound."

# A message the consumer could not process this many times goes to the dead-letter queue.
DELIVERY_LIMIT = 5

LEDGER_QUEUE_ARGUMENTS: dict[str, Any] = {
    "x-queue-type": "quorum",
    "x-delivery-limit": DELIVERY_LIMIT,
    "x-dead-letter-exchange": DEAD_EXCHANGE,
}
QUORUM_QUEUE_ARGUMENTS: dict[str, Any] = {"x-queue-type": "quorum"}

# Bounded waits: a broker that stops answering, or blocks publishers on a resource alarm,
# must surface as an error rather than a hung request or consumer.
SOCKET_TIMEOUT_S = 10.0
STACK_TIMEOUT_S = 15.0
BLOCKED_CONNECTION_TIMEOUT_S = 30.0


def outbound_queue(platform: str) -> str:
    return OUTBOUND_QUEUE_PREFIX + platform


def outbound_binding_key(platform: str) -> str:
    return f"{platform}.#"


def connection_parameters(amqp_url: str, role: str) -> pika.URLParameters:
    """Parameters from the URL, with bounded timeouts and a connection name that says who we are.

    The name (`pointsledger-<role>-<pid>`) shows in `rabbitmqctl list_connections client_properties`
    and in the management UI, so an operator can tell the consumer from the API's publishers.
    """
    parameters = pika.URLParameters(amqp_url)
    parameters.connection_attempts = 1
    parameters.socket_timeout = SOCKET_TIMEOUT_S
    parameters.stack_timeout = STACK_TIMEOUT_S
    parameters.blocked_connection_timeout = BLOCKED_CONNECTION_TIMEOUT_S
    parameters.client_properties = {"connection_name": connection_name(role)}
    return parameters


def connection_name(role: str) -> str:
    return f"pointsledger-{role}-{os.getpid()}"


def declare_events_exchange(channel: BlockingChannel) -> None:
    channel.exchange_declare(EVENTS_EXCHANGE, exchange_type="topic", durable=True)


def declare_ledger_topology(channel: BlockingChannel) -> None:
    """What the ledger consumer reads from: events → ledger queue, poison → dead queue."""
    declare_events_exchange(channel)
    channel.exchange_declare(DEAD_EXCHANGE, exchange_type="fanout", durable=True)
    channel.queue_declare(DEAD_QUEUE, durable=True, arguments=QUORUM_QUEUE_ARGUMENTS)
    channel.queue_bind(DEAD_QUEUE, DEAD_EXCHANGE)
    channel.queue_declare(LEDGER_QUEUE, durable=True, arguments=LEDGER_QUEUE_ARGUMENTS)
    channel.queue_bind(LEDGER_QUEUE, EVENTS_EXCHANGE, routing_key="#")


def declare_outbound_topology(channel: BlockingChannel, platforms: Iterable[str]) -> None:
    """The ledger's signed notices, one queue per platform for that platform's adapter."""
    channel.exchange_declare(OUTBOUND_EXCHANGE, exchange_type="topic", durable=True)
    for platform in platforms:
        queue = outbound_queue(platform)
        channel.queue_declare(queue, durable=True, arguments=QUORUM_QUEUE_ARGUMENTS)
        channel.queue_bind(queue, OUTBOUND_EXCHANGE, routing_key=outbound_binding_key(platform))


def declare_topology(channel: BlockingChannel, platforms: Iterable[str]) -> None:
    """Everything of SPEC §5 (what `pointsledger amqp setup` does)."""
    declare_ledger_topology(channel)
    declare_outbound_topology(channel, platforms)
