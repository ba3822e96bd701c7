"""Broker mode against a real RabbitMQ: the API's 202 means the event is in the ledger queue."""

from __future__ import annotations

from collections.abc import Iterator

import pika
import pytest
from flask import Flask

from ledger.app import create_app
from ledger.app_context import EVENT_QUEUE_EXTENSION
from ledger.bootstrap import Ledger
from ledger.infra.amqp.messages import delivery_from_message
from ledger.infra.amqp.publisher import EventPublisher
from ledger.runtime.topology import LEDGER_QUEUE, declare_ledger_topology
from tests.api.support import in_broker_mode, post_delivery
from tests.support import PlatformFixture

pytestmark = pytest.mark.rabbitmq


@pytest.fixture
def broker_app(ledger: Ledger, amqp_url: str) -> Iterator[Flask]:
    app = create_app(ledger=in_broker_mode(ledger, amqp_url))
    yield app
    publisher = app.extensions[EVENT_QUEUE_EXTENSION]
    assert isinstance(publisher, EventPublisher)
    publisher.close()


def _declare_ledger_topology(amqp_url: str) -> None:
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        declare_ledger_topology(connection.channel())
    finally:
        connection.close()


def _take_one(amqp_url: str) -> tuple[pika.BasicProperties, bytes] | None:
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        method, properties, body = connection.channel().basic_get(LEDGER_QUEUE, auto_ack=True)
        return None if method is None else (properties, body)
    finally:
        connection.close()


def test_a_queued_event_is_in_the_ledger_queue_as_signed(
        broker_app: Flask, amqp_url: str, platform: PlatformFixture) -> None:
    _declare_ledger_topology(amqp_url)
    delivery = platform.delivery()

    response = post_delivery(broker_app.test_client(), delivery)

    assert response.status_code == 202
    message = _take_one(amqp_url)
    assert message is not None
    properties, body = message
    assert properties.message_id == "lijiayuan-1"
    assert properties.delivery_mode == pika.DeliveryMode.Persistent.value
    received = delivery_from_message(properties, body)
    assert received.body == delivery.body
    assert received.headers == delivery.headers


def test_an_event_no_queue_would_take_is_refused_with_503(
        broker_app: Flask, platform: PlatformFixture) -> None:
    # No `amqp setup`: the exchange exists (the publisher declares it) but no queue is bound.
    response = post_delivery(broker_app.test_client(), platform.delivery())
    assert response.status_code == 503
    assert response.json["code"] == "queue_unavailable"


def test_readyz_checks_the_real_broker(broker_app: Flask) -> None:
    response = broker_app.test_client().get("/readyz")
    assert response.status_code == 200
    assert response.json["checks"] == {"database": "ok", "queue": "ok"}
