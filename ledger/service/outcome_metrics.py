"""The ingestor's outcomes counted into pointsledger_events_total and
pointsledger_rejections_total (SPEC §15), by whoever ran the ingestor: the consumer, or the API
in the embedded mode (and for what it refuses before queueing in broker mode).

A platform label is a platform the ledger knows, or "unknown": the platform field of an event
that failed before its platform was found in the registry is whatever its sender wrote, and one
label value per forged name would let anyone grow the metrics without bound.

Counted after the commit (`Ingestor.ingest` returns then): a batch that fails and is delivered
again is counted once, as what was recorded or refused.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from ledger.domain.outcomes import Outcome, Reason
from ledger.runtime.metrics import EVENTS, REJECTIONS

UNKNOWN_PLATFORM_LABEL = "unknown"
# Refusals decided before the platform was found registered: their platform is whatever the
# body said (any text, even an ID number), so it never becomes a label.
_PLATFORM_UNCHECKED = frozenset({Reason.TOO_LARGE, Reason.MALFORMED_JSON, Reason.SCHEMA_INVALID,
                                 Reason.UNKNOWN_PLATFORM})


def platform_label(outcome: Outcome) -> str:
    """The outcome's platform when it is a registered code, else "unknown"."""
    if outcome.platform is None or outcome.reason in _PLATFORM_UNCHECKED:
        return UNKNOWN_PLATFORM_LABEL
    return outcome.platform


def count_outcomes(outcomes: Sequence[Outcome]) -> None:
    # One increment per label set, not per event: a batch holds up to 1500 events.
    events = Counter((platform_label(outcome), outcome.status.value) for outcome in outcomes)
    rejections = Counter((platform_label(outcome), outcome.reason.value) for outcome in outcomes
                         if outcome.reason is not None)
    for (platform, status), count in events.items():
        EVENTS.labels(platform=platform, outcome=status).inc(count)
    for (platform, reason), count in rejections.items():
        REJECTIONS.labels(platform=platform, reason=reason).inc(count)
