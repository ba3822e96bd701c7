"""The rules behind the counters, without HTTP: which platform label an outcome gets, and that
a count waiting for a commit is dropped when the transaction rolls back."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from ledger.domain.outcomes import Outcome, Reason, Status
from ledger.service.counted_on_commit import count_on_commit
from ledger.service.outcome_metrics import count_outcomes, platform_label

FORGED = "forged-platform-name"


@pytest.mark.parametrize("reason", [Reason.TOO_LARGE, Reason.MALFORMED_JSON,
                                    Reason.SCHEMA_INVALID, Reason.UNKNOWN_PLATFORM])
def test_a_platform_never_checked_against_the_registry_is_unknown(reason: Reason) -> None:
    assert platform_label(Outcome.rejected(reason, "refused", platform=FORGED)) == "unknown"


def test_a_platform_found_in_the_registry_is_its_code() -> None:
    assert platform_label(Outcome.rejected(Reason.BAD_SIGNATURE, "refused",
                                           platform="lijiayuan")) == "lijiayuan"
    assert platform_label(Outcome(Status.RECORDED, "recorded", "lijiayuan")) == "lijiayuan"


def test_count_outcomes_counts_each_outcome_and_each_rejection_reason() -> None:
    def sample(name: str, **labels: str) -> float:
        return REGISTRY.get_sample_value(name, labels) or 0.0

    events = ("pointsledger_events_total", {"platform": "unknown", "outcome": "rejected"})
    rejections = ("pointsledger_rejections_total", {"platform": "unknown",
                                                    "reason": "unknown_platform"})
    recorded = ("pointsledger_events_total", {"platform": "wuhe", "outcome": "recorded"})
    before = [sample(name, **labels) for name, labels in (events, rejections, recorded)]

    count_outcomes([Outcome.rejected(Reason.UNKNOWN_PLATFORM, "no", platform=FORGED),
                    Outcome(Status.RECORDED, "recorded", "wuhe"),
                    Outcome(Status.RECORDED, "recorded", "wuhe")])

    after = [sample(name, **labels) for name, labels in (events, rejections, recorded)]
    assert [now - then for now, then in zip(after, before, strict=True)] == [1, 1, 2]


def test_a_count_waits_for_the_commit_and_is_dropped_on_rollback() -> None:
    counted: list[str] = []
    engine = create_engine("sqlite://")
    with Session(engine) as session:
        session.begin()
        count_on_commit(session, lambda: counted.append("rolled back"))
        session.rollback()
        session.begin()
        count_on_commit(session, lambda: counted.append("committed"))
        assert counted == []
        session.commit()
        session.begin()
        session.commit()  # a later transaction counts nothing again
    engine.dispose()
    assert counted == ["committed"]
