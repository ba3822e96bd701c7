"""GET /metrics (SPEC §15): Prometheus text for the `monitor`, `admin` and `auditor` roles.

Two sources make one answer:
- what this process counted (requests, events, redemptions, decisions). Under gunicorn each
  worker counts on its own; with PROMETHEUS_MULTIPROC_DIR set, every worker writes its figures
  to files there and any worker's answer adds up all of them (prometheus_client's multiprocess
  mode; `ledger.gunicorn_config` forgets the files of a worker that exited). Without it (the
  development server, the tests) this process's default registry is the answer.
- the database, read at scrape time by `DatabaseGauges`: the head, gaps, checkpoint ages,
  notices pending and what each witness cosigned.

pointsledger_witness_cosigned_size is declared once in `ledger.runtime.metrics` for the witness
client, which sets it in its own process; the API reads the same figure from the database
instead. One answer must not name a metric twice, so the process's own family of that name
(empty here, as the API never sets it) is left out and the database's value is the one given.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Iterator, Mapping

from flask import Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy.exc import SQLAlchemyError

from ledger.api.access import roles
from ledger.api.blueprint import Blueprint
from ledger.app_context import current_ledger
from ledger.bootstrap import Ledger
from ledger.runtime.metrics import SCRAPE_ERRORS, WITNESS_COSIGNED_SIZE
from ledger.service.operations_readings import OperationsReadings, read_operations

log = logging.getLogger(__name__)

blp = Blueprint("metrics", __name__, description="Metrics for Prometheus (SPEC §15)")

MULTIPROCESS_DIRECTORY_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
TEXT_DOCUMENTATION = {"responses": {"200": {
    "description": "the Prometheus text exposition format",
    "content": {CONTENT_TYPE_LATEST.split(";")[0]: {"schema": {"type": "string"}}}}}}


@blp.route("/metrics")
@roles("monitor", "admin", "auditor")
@blp.response(200)
@blp.doc(**TEXT_DOCUMENTATION)
def metrics() -> Response:
    """Every metric of this deployment's API, and the gauges read from the database"""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Without(_process_metrics(), {_witness_family_name()}))
    registry.register(DatabaseGauges(current_ledger()))
    return Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)


def _process_metrics() -> Collector:
    directory = os.environ.get(MULTIPROCESS_DIRECTORY_VARIABLE)
    if directory:
        # registry=None: read the files at each collect, registered nowhere but in the wrapper.
        return MultiProcessCollector(None, directory)  # type: ignore[no-untyped-call]
    return REGISTRY


def _witness_family_name() -> str:
    return next(iter(WITNESS_COSIGNED_SIZE.describe())).name


class _Without(Collector):
    """`source`'s families except those named."""

    def __init__(self, source: Collector, names: set[str]) -> None:
        self._source = source
        self._names = names

    def collect(self) -> Iterable[Metric]:
        return (family for family in self._source.collect() if family.name not in self._names)


class DatabaseGauges(Collector):
    """The gauges of SPEC §15 that the database knows, read when scraped. A database that does
    not answer leaves them out and sets pointsledger_scrape_errors to 1: the process's own
    figures still go out, and an alert on the gauges' absence or on the error says why."""

    def __init__(self, ledger: Ledger) -> None:
        self._ledger = ledger

    def collect(self) -> Iterator[Metric]:
        try:
            with self._ledger.sessions() as session:
                readings = read_operations(session, self._ledger.clock())
        except SQLAlchemyError as error:
            log.warning("metrics: the database did not answer (%s)", type(error).__name__)
            yield _scrape_errors(1)
            return
        yield from gauge_families(readings)
        yield _scrape_errors(0)


def gauge_families(readings: OperationsReadings) -> Iterator[Metric]:
    yield GaugeMetricFamily("pointsledger_ledger_head_seq",
                            "The seq of the ledger's last entry (0: empty).",
                            value=readings.head_seq)
    yield _by_label("pointsledger_platform_gaps",
                    "A platform's seqs below its last one that have not arrived.",
                    "platform", readings.missing_by_platform)
    yield _by_label("pointsledger_checkpoint_age_seconds",
                    "Seconds since the log's latest checkpoint was signed.",
                    "log", readings.checkpoint_age_s_by_log)
    yield GaugeMetricFamily("pointsledger_notices_pending",
                            "Notices to platforms written but not yet relayed to the broker.",
                            value=readings.notices_pending)
    yield _by_label(_witness_family_name(),
                    "The largest ledger checkpoint each witness cosigned (0: none).",
                    "witness", readings.cosigned_size_by_witness)


def _by_label(name: str, documentation: str, label: str,
              values: Mapping[str, float]) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, documentation, labels=[label])
    for label_value, value in sorted(values.items()):
        family.add_metric([label_value], value)
    return family


def _scrape_errors(value: int) -> Metric:
    return GaugeMetricFamily(SCRAPE_ERRORS,
                             "1 when the last scrape could not read the database, else 0.",
                             value=value)
