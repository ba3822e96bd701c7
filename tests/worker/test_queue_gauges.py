"""The consumer's queue gauges (SPEC §15): the depth of each of the ledger's queues, dead letters
first, read from the broker at scrape time; a broker that does not answer gives an error gauge,
never a failed scrape."""

from __future__ import annotations

import socket
from collections.abc import Sequence

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.exc import OperationalError

from ledger.worker.queue_gauges import QueueGauges
from tests.amqp.support import dead_letter, declare


def samples(collector: QueueGauges) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    registry = CollectorRegistry()
    registry.register(collector)
    text = generate_latest(registry).decode()
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def database_down() -> Sequence[str]:
    raise OperationalError("SELECT code FROM platforms", {}, Exception("connection refused"))


@pytest.mark.rabbitmq
def test_dead_letters_and_every_queue_are_counted(amqp_url: str) -> None:
    declare(amqp_url, ["lijiayuan", "wuhe"])
    dead_letter(amqp_url, count=3)

    read = samples(QueueGauges(amqp_url, lambda: ["lijiayuan", "wuhe"]))

    assert read == {
        ("pointsledger_queue_messages", (("queue", "pointsledger.ledger"),)): 0,
        ("pointsledger_queue_messages", (("queue", "pointsledger.dead"),)): 3,
        ("pointsledger_queue_messages", (("queue", "pointsledger.outbound.lijiayuan"),)): 0,
        ("pointsledger_queue_messages", (("queue", "pointsledger.outbound.wuhe"),)): 0,
        ("pointsledger_broker_scrape_errors", ()): 0,
    }


@pytest.mark.rabbitmq
def test_a_database_down_still_leaves_the_ledgers_two_queues(amqp_url: str) -> None:
    declare(amqp_url, ["lijiayuan"])
    dead_letter(amqp_url)

    read = samples(QueueGauges(amqp_url, database_down))

    assert read[("pointsledger_queue_messages", (("queue", "pointsledger.dead"),))] == 1
    assert {labels for name, labels in read if name == "pointsledger_queue_messages"} == {
        (("queue", "pointsledger.ledger"),), (("queue", "pointsledger.dead"),)}


@pytest.mark.rabbitmq
def test_a_queue_never_declared_is_left_out(amqp_url: str) -> None:
    declare(amqp_url, ["lijiayuan"])

    read = samples(QueueGauges(amqp_url, lambda: ["lijiayuan", "wuhe"]))  # wuhe after setup

    assert ("pointsledger_queue_messages",
            (("queue", "pointsledger.outbound.wuhe"),)) not in read
    assert read[("pointsledger_broker_scrape_errors", ())] == 0


def test_a_broker_that_does_not_answer_gives_the_error_gauge_not_a_failed_scrape(
        caplog: pytest.LogCaptureFixture) -> None:
    url = f"amqp://guest:guest@127.0.0.1:{closed_port()}/%2F"

    read = samples(QueueGauges(url, lambda: ["lijiayuan"]))

    assert read == {("pointsledger_broker_scrape_errors", ()): 1}
    assert "metrics: the broker did not answer" in caplog.text
    assert "guest" not in caplog.text  # the URL's credentials are never said


def test_registering_asks_nothing_of_the_broker_nor_the_database() -> None:
    asked: list[str] = []

    def platforms() -> Sequence[str]:
        asked.append("platforms")
        return []

    CollectorRegistry(auto_describe=True).register(
        QueueGauges(f"amqp://127.0.0.1:{closed_port()}/", platforms))

    assert asked == []
