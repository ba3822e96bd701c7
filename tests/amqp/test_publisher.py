"""The broker-mode API's EventPublisher (SPEC §5): persistent, confirmed, mandatory."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pika
import pytest

from ledger.domain.ports import QueueUnavailable
from ledger.infra.amqp.publisher import EventPublisher
from ledger.runtime.topology import LEDGER_QUEUE, connection_parameters
from tests.amqp.support import declare
from tests.support import PlatformFixture

pytestmark = [pytest.mark.postgres, pytest.mark.rabbitmq]


@pytest.fixture
def publisher(amqp_url: str) -> Iterator[EventPublisher]:
    opened = EventPublisher(amqp_url)
    yield opened
    opened.close()


def _take_one(amqp_url: str) -> tuple[pika.spec.Basic.GetOk, pika.BasicProperties, bytes]:
    connection = pika.BlockingConnection(connection_parameters(amqp_url, "test"))
    try:
        method, properties, body = connection.channel().basic_get(LEDGER_QUEUE, auto_ack=True)
    finally:
        connection.close()
    assert method is not None, "the ledger queue is empty"
    return method, properties, body


def test_a_published_event_is_a_persistent_message_with_its_id_and_signature(
        publisher: EventPublisher, amqp_url: str, broker_platform: PlatformFixture) -> None:
    signed = broker_platform.signed(broker_platform.event())

    publisher.publish("lijiayuan.points.awarded", signed.event_id, signed.body, signed.headers)

    method, properties, body = _take_one(amqp_url)
    assert method.routing_key == "lijiayuan.points.awarded"
    assert body == signed.body
    assert properties.delivery_mode == pika.DeliveryMode.Persistent.value
    assert properties.content_type == "application/json"
    assert properties.message_id == signed.event_id
    assert set(signed.headers) == {"webhook-id", "webhook-timestamp", "webhook-signature"}
    # The quorum queue adds its own x-delivery-count; the three signature headers are as sent.
    assert {name: properties.headers[name] for name in signed.headers} == signed.headers


def test_publishing_where_no_queue_takes_the_event_raises_queue_unavailable(
        publisher: EventPublisher, platform_without_topology: PlatformFixture) -> None:
    signed = platform_without_topology.signed(platform_without_topology.event())
    with pytest.raises(QueueUnavailable, match="no queue is bound"):
        publisher.publish("lijiayuan.points.awarded", signed.event_id, signed.body,
                          signed.headers)


def test_publishing_after_the_ledger_queue_was_deleted_raises_queue_unavailable(
        publisher: EventPublisher, amqp_url: str, broker_platform: PlatformFixture) -> None:
    first = broker_platform.signed(broker_platform.event())
    publisher.publish("lijiayuan.points.awarded", first.event_id, first.body, first.headers)
    connection = pika.BlockingConnection(connection_parameters(amqp_url, "test"))
    try:
        connection.channel().queue_delete(LEDGER_QUEUE)
    finally:
        connection.close()

    second = broker_platform.signed(broker_platform.event())
    with pytest.raises(QueueUnavailable):
        publisher.publish("lijiayuan.points.awarded", second.event_id, second.body,
                          second.headers)
    declare(amqp_url)  # once the topology is back, the same publisher works again
    publisher.publish("lijiayuan.points.awarded", second.event_id, second.body, second.headers)


def test_ready_says_whether_the_broker_can_be_used(publisher: EventPublisher) -> None:
    assert publisher.ready()
    unreachable = EventPublisher("amqp://guest:guest@127.0.0.1:1/%2F")
    try:
        assert not unreachable.ready()
        with pytest.raises(QueueUnavailable, match="not reachable"):
            unreachable.publish("lijiayuan.points.awarded", "id-1", b"{}", {})
    finally:
        unreachable.close()


def test_a_thread_per_request_server_does_not_leave_a_connection_per_request(
        publisher: EventPublisher, broker_platform: PlatformFixture) -> None:
    def publish_once() -> None:
        signed = broker_platform.signed(broker_platform.event())
        publisher.publish("lijiayuan.points.awarded", signed.event_id, signed.body,
                          signed.headers)

    for _request in range(3):
        thread = threading.Thread(target=publish_once)
        thread.start()
        thread.join()

    assert publisher.open_connections == 1  # the last thread's; the others were closed
