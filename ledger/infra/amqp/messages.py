"""Signed events as AMQP messages (SPEC §5): properties going out, Deliveries coming in."""

from __future__ import annotations

from collections.abc import Mapping

import pika

from ledger.contract.webhook import HEADER_NAMES
from ledger.service.verification import Delivery

CONTENT_TYPE = "application/json"
CHANNEL = "amqp"


def event_properties(message_id: str, headers: Mapping[str, str]) -> pika.BasicProperties:
    """Persistent, JSON, the event id as message id, and the three Standard Webhooks headers."""
    return pika.BasicProperties(
        delivery_mode=pika.DeliveryMode.Persistent,
        content_type=CONTENT_TYPE,
        message_id=message_id,
        headers=dict(headers),
    )


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


def header_text(value: object) -> str:
    """AMQP table values arrive as str, bytes (not UTF-8, or sent as a byte array) or numbers."""
    if isinstance(value, str):
        return value
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8", errors="replace")
    return str(value)
