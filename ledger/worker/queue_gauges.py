"""The depths of the ledger's queues, read from the broker when the consumer is scraped (SPEC §15).

Dead letters are messages the consumer could not process five times (SPEC §5): they wait in
`pointsledger.dead` until a person looks, and nothing else the ledger counts shows them (their
events never reach it). So the consumer's `--metrics-listen` server asks the broker, at each
scrape, how many messages wait in `pointsledger.ledger`, `pointsledger.dead` and each platform's
outbound queue, and an alert rule pages on the dead ones.

Asked from the scrape's own thread over a short connection of its own (a passive declare, as
`pointsledger status` does): the consumer's connection belongs to its loop and is never touched
from another thread. A broker that does not answer makes the scrape give the queue gauges up and
set pointsledger_broker_scrape_errors to 1; the consumer's own figures still go out.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence

from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy.exc import SQLAlchemyError

from ledger.infra.amqp.queue_depths import queue_depths
from ledger.runtime.broker import BROKER_ERRORS, describe_broker_error
from ledger.runtime.metrics import BROKER_SCRAPE_ERRORS, QUEUE_MESSAGES
from ledger.runtime.topology import DEAD_QUEUE, LEDGER_QUEUE, outbound_queue

log = logging.getLogger(__name__)

QUEUE_MESSAGES_HELP = "Messages ready in the ledger's queues (pointsledger.dead: dead letters)."
BROKER_SCRAPE_ERRORS_HELP = "1 when the last scrape could not read the queues' depths, else 0."


class QueueGauges(Collector):
    """pointsledger_queue_messages{queue} and pointsledger_broker_scrape_errors, read when
    scraped. `platforms` gives the registered platform codes (their outbound queues); when it
    fails (the database is down) the two queues of the ledger are still read."""

    def __init__(self, amqp_url: str, platforms: Callable[[], Sequence[str]]) -> None:
        self._amqp_url = amqp_url
        self._platforms = platforms

    def describe(self) -> Iterator[Metric]:
        # Registering with the default registry asks for the names; without this it would
        # collect, and so call the broker, as the process starts.
        yield GaugeMetricFamily(QUEUE_MESSAGES, QUEUE_MESSAGES_HELP, labels=["queue"])
        yield GaugeMetricFamily(BROKER_SCRAPE_ERRORS, BROKER_SCRAPE_ERRORS_HELP)

    def collect(self) -> Iterator[Metric]:
        try:
            depths = queue_depths(self._amqp_url, self._queues())
        except BROKER_ERRORS as error:
            log.warning("metrics: the broker did not answer (%s)", describe_broker_error(error))
            yield GaugeMetricFamily(BROKER_SCRAPE_ERRORS, BROKER_SCRAPE_ERRORS_HELP, value=1)
            return
        family = GaugeMetricFamily(QUEUE_MESSAGES, QUEUE_MESSAGES_HELP, labels=["queue"])
        for queue, depth in depths.items():
            if depth is not None:  # a queue never declared: `pointsledger status` names it
                family.add_metric([queue], depth)
        yield family
        yield GaugeMetricFamily(BROKER_SCRAPE_ERRORS, BROKER_SCRAPE_ERRORS_HELP, value=0)

    def _queues(self) -> list[str]:
        try:
            platforms = self._platforms()
        except SQLAlchemyError as error:
            log.warning("metrics: the platforms could not be read (%s); their outbound queues "
                        "are left out", type(error).__name__)
            platforms = ()
        return [LEDGER_QUEUE, DEAD_QUEUE, *(outbound_queue(code) for code in platforms)]
