"""Every metric of SPEC §15, declared once, so that each process (the API, the consumer, the
checkpointer, the notice relay, a witness, an adapter) counts into the same names and the alert
rules in deploy/ can be checked against this one list.

Labels are platform codes, outcomes, reasons, branch codes, witness names, routes as declared and
methods and statuses: never a resident, an ID number or a token (tests/ops check the values).
Under gunicorn the API's workers write to PROMETHEUS_MULTIPROC_DIR (prometheus_client's
multiprocess mode, set before this module is imported); other processes keep their own registry.
Gauges read at scrape time from the database (the head, gaps, the checkpoint's age…) or the
broker (the queues' depths) are not declared here but by the collector that reads them; their
names are in SCRAPED_GAUGES.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

PREFIX = "pointsledger_"

EVENTS = Counter("pointsledger_events_total",
                 "Events handled by the ledger, by platform and outcome (SPEC §4.5).",
                 ["platform", "outcome"])
REJECTIONS = Counter("pointsledger_rejections_total",
                     "Events refused and kept, by platform and reason.", ["platform", "reason"])
CONSUMER_BATCH_SECONDS = Histogram(
    "pointsledger_consumer_batch_seconds",
    "Time from a batch's first message in hand to its ack.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0))
CONSUMER_LOCK_HELD = Gauge("pointsledger_consumer_lock_held",
                           "1 while this consumer holds the consumer lock, else 0.",
                           multiprocess_mode="max")
WITNESS_COSIGNED_SIZE = Gauge("pointsledger_witness_cosigned_size",
                              "The largest checkpoint size each witness cosigned (ledger log).",
                              ["witness"], multiprocess_mode="max")
HTTP_REQUEST_SECONDS = Histogram(
    "pointsledger_http_request_duration_seconds",
    "API and console answers, by declared route, method and status.",
    ["route", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0, 2.5, 5.0))
ADAPTER_BACKLOG = Gauge("pointsledger_adapter_backlog",
                        "Events in the adapter's outbox not yet confirmed by the broker.",
                        ["platform"], multiprocess_mode="max")
ADAPTER_QUARANTINED = Counter("pointsledger_adapter_quarantined_total",
                              "Native records an adapter quarantined, by reason.",
                              ["platform", "reason"])
REDEMPTIONS = Counter("pointsledger_redemptions_total", "Redemptions at branch counters.",
                      ["branch"])
DECISIONS = Counter("pointsledger_decisions_total", "Credit-terms decisions answered and kept.")
NOTICES_RELAYED = Counter("pointsledger_notices_relayed_total",
                          "Notices the relay published and the broker confirmed, by platform.",
                          ["platform"])
NOTICE_RELAY_FAILURES = Counter("pointsledger_notice_relay_failures_total",
                                "Attempts to publish the notices that failed (they wait and are "
                                "retried).")
WITNESS_REQUESTS = Counter("pointsledger_witness_requests_total",
                           "Requests a witness answered, by HTTP status (200: cosigned).",
                           ["status"])

# 1 when a scrape could not read the database (the gauges below are then missing), else 0.
SCRAPE_ERRORS = "pointsledger_scrape_errors"
# Read from the broker when the consumer is scraped (ledger.worker.queue_gauges): the messages
# ready in each of the ledger's queues, and 1 when the broker did not answer the scrape.
QUEUE_MESSAGES = "pointsledger_queue_messages"
BROKER_SCRAPE_ERRORS = "pointsledger_broker_scrape_errors"
# Read when scraped (the API's collector from the database, the consumer's from the broker),
# not counted by a process.
SCRAPED_GAUGES = (
    "pointsledger_ledger_head_seq",
    "pointsledger_platform_gaps",
    "pointsledger_checkpoint_age_seconds",
    "pointsledger_notices_pending",
    SCRAPE_ERRORS,
    QUEUE_MESSAGES,
    BROKER_SCRAPE_ERRORS,
)


def metric_names() -> set[str]:
    """Every series name a process of ours can export: what an alert rule may name."""
    declared = (EVENTS, REJECTIONS, CONSUMER_BATCH_SECONDS, CONSUMER_LOCK_HELD,
                WITNESS_COSIGNED_SIZE, HTTP_REQUEST_SECONDS, ADAPTER_BACKLOG,
                ADAPTER_QUARANTINED, REDEMPTIONS, DECISIONS, NOTICES_RELAYED,
                NOTICE_RELAY_FAILURES, WITNESS_REQUESTS)
    names = set(SCRAPED_GAUGES)
    for metric in declared:
        for family in metric.describe():
            names.update(family.name + suffix for suffix in _SUFFIXES.get(family.type, ("",)))
    return names


_SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum")}
