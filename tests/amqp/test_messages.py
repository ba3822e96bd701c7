"""AMQP messages in and out: what the consumer hands the ingestor, whatever the table types."""

from __future__ import annotations

import pika

from ledger.infra.amqp.messages import delivery_from_message
from ledger.runtime.broker import event_properties


def test_header_values_sent_as_bytes_or_numbers_become_text() -> None:
    properties = pika.BasicProperties(headers={
        "webhook-id": b"lijiayuan-1", "webhook-timestamp": 1763776000,
        "Webhook-Signature": "v1a,abc", "x-delivery-count": 3, "x-death": [{"count": 1}]})

    delivery = delivery_from_message(properties, b'{"a":1}')

    assert delivery.headers == {"webhook-id": "lijiayuan-1", "webhook-timestamp": "1763776000",
                                "webhook-signature": "v1a,abc"}
    assert delivery.body == b'{"a":1}'
    assert delivery.channel == "amqp"


def test_a_message_without_headers_is_a_delivery_without_headers() -> None:
    assert delivery_from_message(pika.BasicProperties(), b"{}").headers == {}


def test_outgoing_events_are_persistent_json_with_their_id() -> None:
    properties = event_properties("lijiayuan-7", {"webhook-id": "lijiayuan-7"})
    assert properties.delivery_mode == pika.DeliveryMode.Persistent.value
    assert properties.content_type == "application/json"
    assert properties.message_id == "lijiayuan-7"
    assert properties.headers == {"webhook-id": "lijiayuan-7"}
