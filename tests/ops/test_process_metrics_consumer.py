"""`pointsledger consume --metrics-listen`: the consumer's counters equal the events it handled,
by platform and outcome; it says that it holds the consumer lock, and how many messages wait in
each queue, dead letters among them (SPEC §15)."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.bootstrap import Ledger
from ledger.contract.signing import EventSigner
from tests.amqp.support import (
    ConsumerProcess,
    Published,
    consumer_environment,
    dead_letter,
    entries,
    publish,
    rejections,
    running_consumer,
    wait_until,
)
from tests.ops.process_metrics_support import (
    METRICS_AT,
    assert_labels_clean,
    labels,
    scrape,
    series,
)
from tests.support import RESIDENT_A, PlatformFixture

pytestmark = [pytest.mark.postgres, pytest.mark.rabbitmq]

HANDLED_TIMEOUT_S = 60.0
# An ID number (a valid check character) put where a platform code belongs.
ID_NUMBER_AS_PLATFORM = "11010519491231002X"




def metrics_url(consumer: ConsumerProcess) -> str:
    found = METRICS_AT.search(consumer.log())
    assert found is not None, f"the consumer did not say where its metrics are:\n{consumer.log()}"
    return found.group(1)


def test_the_consumers_counters_equal_the_events_it_handled_by_outcome(
        broker_ledger: Ledger, broker_platform: PlatformFixture, postgres_url: str,
        amqp_url: str, tmp_path: Path) -> None:
    platform = broker_platform
    good = [platform.signed(platform.event()) for _ in range(5)]
    impostor = EventSigner(Ed25519PrivateKey.generate())
    badly_signed = [impostor.sign(platform.event()) for _ in range(2)]
    unregistered = impostor.sign(platform.event(platform="nowhere"))
    id_number_as_platform = impostor.sign(platform.event(platform=ID_NUMBER_AS_PLATFORM))
    environment = consumer_environment(postgres_url, amqp_url, tmp_path)

    with running_consumer(environment, tmp_path / "consumer.log",
                          ["--metrics-listen", "127.0.0.1:0"]) as consumer:
        consumer.wait_until_consuming(amqp_url)
        url = metrics_url(consumer)
        publish(amqp_url, [Published("points.awarded", signed) for signed in good])
        wait_until(lambda: entries(broker_ledger.sessions) == 5, HANDLED_TIMEOUT_S,
                   "the five good events to be recorded")
        # Delivered again (a platform retrying): recorded once, counted as a duplicate.
        publish(amqp_url, [Published("points.awarded", signed)
                           for signed in [good[0], *badly_signed, unregistered,
                                          id_number_as_platform]])
        wait_until(lambda: len(rejections(broker_ledger.sessions)) == 4, HANDLED_TIMEOUT_S,
                   "the four refused events to be kept")
        wait_until(lambda: sum(series(scrape(url), "pointsledger_events_total").values()) >= 10,
                   HANDLED_TIMEOUT_S, "ten events counted")
        dead_letter(amqp_url, count=2)  # two messages the consumer gave up on (SPEC §5)
        samples = scrape(url)

    assert series(samples, "pointsledger_events_total") == {
        labels(platform=platform.code, outcome="recorded"): 5,
        labels(platform=platform.code, outcome="duplicate"): 1,
        labels(platform=platform.code, outcome="rejected"): 2,
        labels(platform="unknown", outcome="rejected"): 2,
    }
    assert series(samples, "pointsledger_rejections_total") == {
        labels(platform=platform.code, reason="bad_signature"): 2,
        labels(platform="unknown", reason="unknown_platform"): 1,
        # Not a platform code at all: refused by the envelope's schema, before any lookup.
        labels(platform="unknown", reason="schema_invalid"): 1,
    }
    assert entries(broker_ledger.sessions) == 5
    assert series(samples, "pointsledger_consumer_lock_held") == {labels(): 1}
    assert samples["pointsledger_consumer_batch_seconds_count"][labels()] >= 2
    # Read from the broker as it is scraped: what pages a person about dead letters.
    assert samples["pointsledger_queue_messages"] == {
        labels(queue="pointsledger.ledger"): 0,
        labels(queue="pointsledger.dead"): 2,
        labels(queue=f"pointsledger.outbound.{platform.code}"): 0,
    }
    assert samples["pointsledger_broker_scrape_errors"] == {labels(): 0}
    assert_labels_clean(samples, fed=(ID_NUMBER_AS_PLATFORM, RESIDENT_A))
