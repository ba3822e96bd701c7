"""Signed events as AMQP messages coming in (SPEC §5): the Delivery the ingestor verifies."""

from __future__ import annotations

import pika

from ledger.contract.webhook import HEADER_NAMES
from ledger.domain.verification import Delivery
from ledger.runtime.broker import header_text

CHANNEL = "amqp"


def delivery_from_message(properties: pika.BasicProperties, body: bytes) -> Delivery:
    """The Delivery the ingestor verifies: the exact body and the webhook headers as text.

    Only the Standard Webhooks headers are kept: the broker adds its own (`x-delivery-count`,
    `x-death`) on redelivery, and those must not make a redelivered event look different.
    A missing header is left out; the ingestor then refuses the event as bad_signature and keeps it.
    """
    headers: dict[str, str] = {}
    for name, value in (properties.headers or {}).items():
        lowered = str(name).lower()
        if lowered in HEADER_NAMES and value is not None:
            headers[lowered] = header_text(value)
    return Delivery(bytes(body), headers, CHANNEL)
