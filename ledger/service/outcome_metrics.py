"""Events handled, counted by platform and outcome once their batch is committed (SPEC §15).

The consumer and the API's embedded ingest both call `count_outcomes` with the outcomes that
`Ingestor.ingest` returned, that is after the commit: a batch that fails and is delivered again
is counted once, as what was recorded or refused.
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
