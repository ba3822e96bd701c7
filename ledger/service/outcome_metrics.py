"""The ingestor's outcomes counted into pointsledger_events_total and
pointsledger_rejections_total (SPEC §15), by whoever ran the ingestor: the consumer, or the API
in the embedded mode (and for what it refuses before queueing in broker mode).

A platform label is a platform the ledger knows, or "unknown": the platform field of an event
that failed before its platform was found in the registry is whatever its sender wrote, and one
label value per forged name would let anyone grow the metrics without bound.
"""

from __future__ import annotations

from collections.abc import Iterable

from ledger.domain.outcomes import Outcome, Reason, Status
from ledger.runtime.metrics import EVENTS, REJECTIONS

UNKNOWN_PLATFORM = "unknown"
# Refused before the platform was looked up, or because it was not found: the platform field,
# if any, was never checked against the registry. (A schema refusal can also come after the
# signature, with a known platform; telling them apart would take the registry, so both count
# as "unknown".)
UNCHECKED_PLATFORM_REASONS = frozenset({Reason.TOO_LARGE, Reason.MALFORMED_JSON,
                                        Reason.SCHEMA_INVALID, Reason.UNKNOWN_PLATFORM})


def count_outcomes(outcomes: Iterable[Outcome]) -> None:
    for outcome in outcomes:
        platform = platform_label(outcome)
        EVENTS.labels(platform, outcome.status.value).inc()
        if outcome.status is Status.REJECTED and outcome.reason is not None:
            REJECTIONS.labels(platform, outcome.reason.value).inc()


def platform_label(outcome: Outcome) -> str:
    if outcome.platform is None or outcome.reason in UNCHECKED_PLATFORM_REASONS:
        return UNKNOWN_PLATFORM
    return outcome.platform
