"""count_outcomes: each outcome counted once by platform and outcome, refusals by reason; a
platform the body named but nobody verified is "unknown", never the body's text."""

from __future__ import annotations

from prometheus_client import REGISTRY

from ledger.domain.outcomes import Outcome, Reason, Status
from ledger.service.outcome_metrics import count_outcomes

PLATFORM = "outcome-metrics-test"


def counted(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_each_outcome_is_counted_once_under_its_platform_and_reason() -> None:
    before = {
        "recorded": counted("pointsledger_events_total", platform=PLATFORM, outcome="recorded"),
        "duplicate": counted("pointsledger_events_total", platform=PLATFORM,
                             outcome="duplicate"),
        "rejected": counted("pointsledger_events_total", platform=PLATFORM, outcome="rejected"),
        "bad_signature": counted("pointsledger_rejections_total", platform=PLATFORM,
                                 reason="bad_signature"),
    }
    count_outcomes([
        Outcome(Status.RECORDED, "", PLATFORM), Outcome(Status.RECORDED, "", PLATFORM),
        Outcome(Status.DUPLICATE, "", PLATFORM),
        Outcome.rejected(Reason.BAD_SIGNATURE, "", platform=PLATFORM),
    ])
    assert counted("pointsledger_events_total", platform=PLATFORM,
                   outcome="recorded") == before["recorded"] + 2
    assert counted("pointsledger_events_total", platform=PLATFORM,
                   outcome="duplicate") == before["duplicate"] + 1
    assert counted("pointsledger_events_total", platform=PLATFORM,
                   outcome="rejected") == before["rejected"] + 1
    assert counted("pointsledger_rejections_total", platform=PLATFORM,
                   reason="bad_signature") == before["bad_signature"] + 1


def test_a_platform_read_from_an_unverified_body_is_counted_as_unknown() -> None:
    body_said = "330109199001011234"
    before = counted("pointsledger_rejections_total", platform="unknown", reason="schema_invalid")
    count_outcomes([Outcome.rejected(Reason.SCHEMA_INVALID, "", platform=body_said),
                    Outcome.rejected(Reason.UNKNOWN_PLATFORM, "", platform="nowhere"),
                    Outcome.rejected(Reason.MALFORMED_JSON, "")])
    assert counted("pointsledger_rejections_total", platform="unknown",
                   reason="schema_invalid") == before + 1
    for name in ("pointsledger_events_total", "pointsledger_rejections_total"):
        exported = {sample.labels.get("platform") for family in REGISTRY.collect()
                    for sample in family.samples if sample.name == name}
        assert body_said not in exported and "nowhere" not in exported
