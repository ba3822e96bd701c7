"""How many messages wait in each of the ledger's queues (`pointsledger status`, SPEC §15).

A passive declare only asks: it never creates a queue nor changes one, so the probe cannot
disturb the topology `pointsledger amqp setup` declared. A queue that does not exist makes the
broker close the channel (404), after which the probe goes on with a new one.

The probe runs on every load of the console's status pages and every `pointsledger status`, so
it waits for the broker far less than a consumer or publisher does (ledger.runtime.topology):
a broker that accepts the connection but never answers, or an address that drops every packet,
is reported as unreachable within PROBE_TIMEOUT_S rather than holding the page for 15 s.
"""

from __future__ import annotations

from collections.abc import Iterable

import pika
import pika.exceptions

from ledger.runtime.topology import connection_parameters

NOT_FOUND = 404

# Each wait of connecting: the TCP connect (pika's socket_timeout), the whole connection
# handshake (stack_timeout), and a connection the broker blocks on a resource alarm. A broker
# that answers at all answers a passive declare in milliseconds.
PROBE_TIMEOUT_S = 3.0


def queue_depths(amqp_url: str, queues: Iterable[str]) -> dict[str, int | None]:
    """Each queue's ready messages; None for a queue that is not declared. Raises pika's error
    (ledger.runtime.broker.BROKER_ERRORS) when the broker cannot be reached."""
    connection = pika.BlockingConnection(probe_parameters(amqp_url))
    try:
        channel = connection.channel()
        depths: dict[str, int | None] = {}
        for queue in queues:
            try:
                declared = channel.queue_declare(queue, passive=True)
            except pika.exceptions.ChannelClosedByBroker as error:
                if error.reply_code != NOT_FOUND:
                    raise
                depths[queue] = None
                channel = connection.channel()
                continue
            depths[queue] = int(declared.method.message_count)
        return depths
    finally:
        if connection.is_open:
            connection.close()


def probe_parameters(amqp_url: str) -> pika.URLParameters:
    """The ledger's connection parameters (one attempt, named), with the probe's short waits."""
    parameters = connection_parameters(amqp_url, "status")
    parameters.socket_timeout = PROBE_TIMEOUT_S
    parameters.stack_timeout = PROBE_TIMEOUT_S
    parameters.blocked_connection_timeout = PROBE_TIMEOUT_S
    return parameters
