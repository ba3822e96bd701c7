"""Credit terms from real ledger entries (SPEC §8), kept as decisions that replay the same.

The rules are the SPEC's example: 沥家园 weighs 1.0 and 南阳young 0.5, 五和众联 is missing (0);
garbage sorting 1.0 capped at 30 a month, safety patrols 2.0 capped at 40; a deduction weighs
2.0; ≥ 600 points in ≥ 6 active months without deductions → 100 000 CNY and 30 bp, ≥ 100 →
20 000 CNY and 5 bp, else nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from ledger.bootstrap import Ledger
from ledger.domain.outcomes import Status
from ledger.service.errors import Conflict, InvalidInput
from ledger.service.rules import terms
from tests.rules.support import activate, now, platforms, spec_document
from tests.support import RESIDENT_A, RESIDENT_B, PlatformFixture

# 2026-11-30 20:00 UTC is already 2026-12-01 04:00 in Shanghai: the window is 2026-01…2026-12.
AS_OF = datetime(2026, 11, 30, 20, 0, tzinfo=UTC)


class Feed:
    """Signed events of each platform into the ledger, recorded one by one."""

    def __init__(self, ledger: Ledger, by_code: dict[str, PlatformFixture]) -> None:
        self._ledger = ledger
        self._platforms = by_code

    def send(self, code: str, occurred_at: str, points: int, category: str = "garbage_sorting",
             kind: str = "points.awarded", resident: str = RESIDENT_A,
             revokes: str | None = None) -> str:
        platform = self._platforms[code]
        event = platform.event(type=kind, occurred_at=occurred_at, points=points,
                               category=category, resident=resident, revokes=revokes)
        (outcome,) = self._ledger.ingestor.ingest([platform.delivery(event)])
        assert outcome.status is Status.RECORDED, outcome
        return str(event["event_id"])

    def revoke(self, code: str, event_id: str, occurred_at: str, points: int,
               category: str = "garbage_sorting", resident: str = RESIDENT_A) -> str:
        return self.send(code, occurred_at, points, category, "points.revoked", resident,
                         revokes=event_id)


@pytest.fixture
def feed(ledger: Ledger) -> Feed:
    return Feed(ledger, platforms(ledger))


@pytest.fixture
def spec_rules(ledger: Ledger, feed: Feed) -> int:
    return activate(ledger, spec_document())


def _terms(ledger: Ledger, as_of: datetime | None = AS_OF,
           resident: str = RESIDENT_A) -> dict[str, Any]:
    with ledger.sessions.begin() as session:
        return terms.credit_terms(session, resident, "loan-system", now(), as_of)


def _replay(ledger: Ledger, decision_id: str) -> dict[str, Any]:
    with ledger.sessions() as session:
        return terms.replay(session, decision_id)


def _hand_computed_history(feed: Feed) -> None:
    feed.send("lijiayuan", "2026-11-05T09:00:00+08:00", 25)  # November garbage: 45 → cap 30
    feed.send("lijiayuan", "2026-11-20T09:00:00+08:00", 20)
    feed.send("lijiayuan", "2026-10-10T21:00:00+08:00", 50, "safety_patrol")  # 40 × 2 = 80
    # December 1st in Shanghai, before as_of: 30 × 2.0 × 0.5 = 30
    feed.send("nanyang_young", "2026-12-01T02:00:00+08:00", 30, "safety_patrol")
    feed.send("nanyang_young", "2026-09-15T09:00:00+08:00", 4,
              kind="points.deducted")  # −2.0 × 4 × 0.5 = −4
    feed.send("wuhe_zhonglian", "2026-11-11T09:00:00+08:00", 100)  # weight 0, active month
    feed.send("lijiayuan", "2025-11-15T09:00:00+08:00", 30)  # before the window
    feed.send("lijiayuan", "2026-12-01T05:00:00+08:00", 40, "safety_patrol")  # after as_of
    feed.send("lijiayuan", "2026-11-05T09:00:00+08:00", 99, resident=RESIDENT_B)  # another


def test_hand_computed_terms_with_their_explanation(ledger: Ledger, feed: Feed,
                                                    spec_rules: int) -> None:
    _hand_computed_history(feed)

    answer = _terms(ledger)

    # 30 + 80 + 30 − 4 = 136: tier 1
    assert (answer["score"], answer["active_months"], answer["deductions"]) == (136, 3, 1)
    assert (answer["tier"], answer["limit_uplift_cny"], answer["rate_discount_bp"]) == (
        1, 20000, 5)
    assert answer["ruleset_version"] == spec_rules
    assert answer["as_of"] == "2026-11-30T20:00:00Z"
    assert answer["ledger_seq"] == 9
    explanation = answer["explanation"]
    assert explanation["window"] == {"months": 12, "from": "2026-01", "to": "2026-12"}
    assert explanation["categories"] == [
        {"platform": "lijiayuan", "category": "garbage_sorting", "points": 45,
         "capped_points": 30, "monthly_cap": 30, "category_weight": "1",
         "platform_weight": "1", "contribution": "30"},
        {"platform": "lijiayuan", "category": "safety_patrol", "points": 50,
         "capped_points": 40, "monthly_cap": 40, "category_weight": "2",
         "platform_weight": "1", "contribution": "80"},
        {"platform": "nanyang_young", "category": "safety_patrol", "points": 30,
         "capped_points": 30, "monthly_cap": 40, "category_weight": "2",
         "platform_weight": "0.5", "contribution": "30"},
        {"platform": "wuhe_zhonglian", "category": "garbage_sorting", "points": 100,
         "capped_points": 30, "monthly_cap": 30, "category_weight": "1",
         "platform_weight": "0", "contribution": "0"},
    ]
    assert explanation["deductions"] == [
        {"platform": "nanyang_young", "points": 4, "deduction_weight": "2",
         "platform_weight": "0.5", "contribution": "-4"}]
    assert explanation["tier"] == {"index": 1, "when": {"min_score": 100},
                                   "limit_uplift_cny": 20000, "rate_discount_bp": 5}
    assert explanation["caps"]["applied"] is False


def test_the_month_is_the_month_in_shanghai(ledger: Ledger, feed: Feed,
                                            spec_rules: int) -> None:
    # 23:59 and 00:00 in Shanghai: October and November, each under its own cap of 30.
    feed.send("lijiayuan", "2026-10-31T15:59:00Z", 30)
    feed.send("lijiayuan", "2026-10-31T16:00:00Z", 30)
    feed.send("lijiayuan", "2026-10-31T16:00:01Z", 30)

    answer = _terms(ledger)

    assert (answer["score"], answer["active_months"]) == (60, 2)


def test_an_as_of_in_the_past_counts_only_what_had_occurred(ledger: Ledger, feed: Feed,
                                                            spec_rules: int) -> None:
    _hand_computed_history(feed)

    answer = _terms(ledger, datetime(2026, 10, 31, 0, 0, tzinfo=UTC))

    # The window is 2025-11…2026-10: November 2025's garbage (30), October's patrol (80) and
    # September's deduction (−4); nothing that occurred after October 31st, 08:00 in Shanghai.
    assert (answer["score"], answer["active_months"], answer["deductions"]) == (106, 2, 1)
    assert answer["explanation"]["window"] == {"months": 12, "from": "2025-11", "to": "2026-10"}
    assert answer["tier"] == 1


def test_a_revocation_counts_against_its_award_month_and_only_once_it_happened(
        ledger: Ledger, feed: Feed, spec_rules: int) -> None:
    patrol = feed.send("lijiayuan", "2026-10-10T21:00:00+08:00", 40, "safety_patrol")
    feed.send("lijiayuan", "2026-11-02T21:00:00+08:00", 40, "safety_patrol")
    feed.revoke("lijiayuan", patrol, "2026-11-20T10:00:00+08:00", 40, "safety_patrol")

    before_revocation = _terms(ledger, datetime(2026, 11, 15, tzinfo=UTC))
    after_revocation = _terms(ledger)

    assert (before_revocation["score"], before_revocation["active_months"]) == (160, 2)
    # October is empty again: one active month, 80 points.
    assert (after_revocation["score"], after_revocation["active_months"]) == (80, 1)


def test_revoking_an_award_from_before_the_window_changes_nothing(
        ledger: Ledger, feed: Feed, spec_rules: int) -> None:
    old = feed.send("lijiayuan", "2025-10-10T09:00:00+08:00", 30)
    feed.send("lijiayuan", "2026-11-02T09:00:00+08:00", 30)
    before = _terms(ledger)
    feed.revoke("lijiayuan", old, "2026-11-20T10:00:00+08:00", 30)

    after = _terms(ledger)

    assert (before["score"], after["score"]) == (30, 30)
    assert after["active_months"] == 1


def test_missing_platforms_and_categories_weigh_nothing(ledger: Ledger, feed: Feed,
                                                        spec_rules: int) -> None:
    feed.send("wuhe_zhonglian", "2026-11-02T09:00:00+08:00", 500, "safety_patrol")
    feed.send("lijiayuan", "2026-11-02T09:00:00+08:00", 500, "volunteering")

    answer = _terms(ledger)

    assert answer["score"] == 0
    assert answer["active_months"] == 1
    assert (answer["tier"], answer["limit_uplift_cny"]) == (2, 0)


def test_deductions_lower_the_score_but_never_below_zero(ledger: Ledger, feed: Feed,
                                                         spec_rules: int) -> None:
    feed.send("lijiayuan", "2026-11-02T09:00:00+08:00", 10)
    feed.send("lijiayuan", "2026-11-03T09:00:00+08:00", 50, kind="points.deducted")

    answer = _terms(ledger)

    assert (answer["score"], answer["deductions"]) == (0, 1)
    assert answer["explanation"]["deductions"][0]["contribution"] == "-100"


def test_the_caps_apply_last(ledger: Ledger, feed: Feed) -> None:
    generous = spec_document(tiers=[
        {"when": {"min_score": 10}, "limit_uplift_cny": 500000, "rate_discount_bp": 80},
        {"when": {}, "limit_uplift_cny": 0, "rate_discount_bp": 0}])
    activate(ledger, generous)
    feed.send("lijiayuan", "2026-11-02T09:00:00+08:00", 20)

    answer = _terms(ledger)

    assert (answer["tier"], answer["limit_uplift_cny"], answer["rate_discount_bp"]) == (
        0, 200000, 50)
    assert answer["explanation"]["caps"]["applied"] is True
    assert answer["explanation"]["tier"]["limit_uplift_cny"] == 500000


def test_the_top_tier_needs_steady_activity_and_no_deduction(ledger: Ledger, feed: Feed,
                                                             spec_rules: int) -> None:
    for month in range(5, 12):  # May to November: 7 active months, 40 × 2 each = 560
        feed.send("lijiayuan", f"2026-{month:02d}-10T21:00:00+08:00", 40, "safety_patrol")
    feed.send("lijiayuan", "2026-11-11T09:00:00+08:00", 30)  # 590
    assert _terms(ledger)["tier"] == 1
    feed.send("lijiayuan", "2026-10-11T09:00:00+08:00", 30)  # 620
    assert _terms(ledger)["tier"] == 0
    feed.send("nanyang_young", "2026-11-12T09:00:00+08:00", 1, kind="points.deducted")
    assert _terms(ledger)["tier"] == 1  # one deduction: 619, but not the top tier


def test_no_terms_without_a_rule_set_in_force(ledger: Ledger, feed: Feed) -> None:
    with pytest.raises(Conflict) as refused:
        _terms(ledger)
    assert refused.value.code == "no_active_ruleset"


def test_an_as_of_in_the_future_is_refused(ledger: Ledger, spec_rules: int) -> None:
    with pytest.raises(InvalidInput) as refused:
        _terms(ledger, now() + timedelta(days=1))
    assert refused.value.errors == {"as_of": "must not be in the future"}


def test_a_decision_replays_the_same_after_new_events_arrive(ledger: Ledger, feed: Feed,
                                                             spec_rules: int) -> None:
    _hand_computed_history(feed)
    patrol = feed.send("lijiayuan", "2026-08-10T21:00:00+08:00", 40, "safety_patrol")
    given = _terms(ledger)
    # Late news: an award dated before the decision's as_of, and the revocation of one it
    # counted. They change today's answer for the same as_of, not the decision.
    feed.send("lijiayuan", "2026-07-01T09:00:00+08:00", 30)
    feed.revoke("lijiayuan", patrol, "2026-11-29T10:00:00+08:00", 40, "safety_patrol")
    today = _terms(ledger)
    assert today["score"] != given["score"]

    replayed = _replay(ledger, given["decision_id"])

    assert replayed["agrees"] is True
    assert "recomputed" not in replayed
    assert {key: replayed[key] for key in given} == given
    assert replayed["asked_by"] == "loan-system"


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_decision_changed_behind_the_databases_back_no_longer_agrees(
        ledger: Ledger, feed: Feed, spec_rules: int) -> None:
    """A superuser disabling the triggers is the way round the guard (PostgreSQL's)."""
    feed.send("lijiayuan", "2026-11-02T09:00:00+08:00", 30)
    given = _terms(ledger)
    with ledger.sessions.begin() as session:
        session.execute(text("ALTER TABLE decisions DISABLE TRIGGER USER"))
        session.execute(text(
            "UPDATE decisions SET answer = jsonb_set(answer::jsonb, '{limit_uplift_cny}', "
            "'100000')::json"))
        session.execute(text("ALTER TABLE decisions ENABLE TRIGGER USER"))

    replayed = _replay(ledger, given["decision_id"])

    assert replayed["agrees"] is False
    assert replayed["limit_uplift_cny"] == 100000
    assert replayed["recomputed"]["limit_uplift_cny"] == given["limit_uplift_cny"]


def test_decisions_cannot_be_changed_or_deleted(ledger: Ledger, spec_rules: int) -> None:
    _terms(ledger, None)
    for statement in ("UPDATE decisions SET asked_by = 'someone else'",
                      "DELETE FROM decisions"):
        with pytest.raises(Exception, match="append-only"), ledger.sessions.begin() as session:
            session.execute(text(statement))
