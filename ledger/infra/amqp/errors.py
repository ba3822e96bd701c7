"""What pika raises when the broker cannot be used, and how to say it in one sentence."""

from __future__ import annotations

import pika.exceptions

# The connection or channel is unusable, or the broker refused a message.
BROKER_ERRORS: tuple[type[BaseException], ...] = (pika.exceptions.AMQPError, OSError)
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
    if isinstance(error, pika.exceptions.ConnectionClosedByBroker):
        return f"the broker closed the connection ({error.reply_code} {error.reply_text})"
    return f"the broker is not reachable ({type(error).__name__})"
