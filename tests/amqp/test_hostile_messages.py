"""Hostile messages on the queue are refused and kept like any other; the consumer and its
stage-one helper stay up (issue 11, defect 2: `webhook-timestamp: 999999999999` killed the
helper, and after five deliveries the message lay in `pointsledger.dead`, not in rejections)."""

from __future__ import annotations

import base64
from pathlib import Path

import pika
import pytest

from ledger.bootstrap import Ledger
from ledger.contract.signing import event_body
from ledger.runtime.topology import DEAD_QUEUE, EVENTS_EXCHANGE, connection_parameters
from tests.amqp.support import (
    entries,
    ready_messages,
    rejections,
    running_consumer,
    wait_until,
)
from tests.support import PlatformFixture

pytestmark = [pytest.mark.postgres, pytest.mark.rabbitmq, pytest.mark.slow]

WAIT_S = 60.0


def _publish_raw(amqp_url: str, messages: list[tuple[bytes, dict[str, object]]]) -> None:
    connection = pika.BlockingConnection(connection_parameters(amqp_url, "test"))
    try:
        channel = connection.channel()
        channel.confirm_delivery()
        for body, headers in messages:
            channel.basic_publish(EVENTS_EXCHANGE, "lijiayuan.points.awarded", body,
                                  pika.BasicProperties(delivery_mode=2, headers=headers,
                                                       content_type="application/json"),
                                  mandatory=True)
    finally:
        connection.close()


def test_absurd_timestamps_on_the_queue_end_in_rejections_and_the_helper_stays_up(
        broker_ledger: Ledger, broker_platform: PlatformFixture, amqp_url: str,
        consumer_env: dict[str, str], tmp_path: Path) -> None:
    platform = broker_platform
    absurd: list[tuple[bytes, dict[str, object]]] = []
    # As text, as an AMQP integer (a table value pika sends as a long), and past year 9999.
    for stamp in ("999999999999", 253402300800, "-5"):
        event = platform.event()
        body = event_body(event)
        content = f"{event['event_id']}.{stamp}.".encode() + body
        absurd.append((body, {"webhook-id": event["event_id"], "webhook-timestamp": stamp,
                              "webhook-signature": "v1a," + base64.b64encode(
                                  platform.private_key.sign(content)).decode()}))
    good = platform.signed(platform.event())

    with running_consumer(consumer_env, tmp_path / "consumer.log") as consumer:
        consumer.wait_until_consuming(amqp_url)
        helpers_before = consumer.children()
        _publish_raw(amqp_url, [*absurd, (good.body, dict(good.headers))])
        wait_until(lambda: len(rejections(broker_ledger.sessions)) == 3
                   and entries(broker_ledger.sessions) == 1, WAIT_S,
                   "three rejections and one entry")
        assert consumer.alive()
        assert consumer.children() == helpers_before, "the same stage-one helper"
        log = consumer.log()

    assert rejections(broker_ledger.sessions) == ["timestamp_skew"] * 3
    assert ready_messages(amqp_url, DEAD_QUEUE) == 0
    assert "Fatal Python error" not in log
    assert "stage-one helper failed" not in log
