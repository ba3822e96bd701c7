"""The score and the tier choice of SPEC §8: hand-computed examples and a reference model."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from fractions import Fraction
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from ledger.domain.ruleset import RuleSet, parse_ruleset
from ledger.domain.scoring import MonthRow, Terms, choose_terms, compute_score, window
from tests.rules.test_ruleset_document import PLATFORMS, SPEC_EXAMPLE

RULES = parse_ruleset(SPEC_EXAMPLE, PLATFORMS)
# 2026-11-30 20:00 UTC is already December 1st in Shanghai.
AS_OF = datetime(2026, 11, 30, 20, 0, tzinfo=UTC)


def _row(platform: str, category: str, month: str, awarded: int = 0, revoked: int = 0,
         deducted: int = 0, deductions: int = 0) -> MonthRow:
    return MonthRow(platform, category, month, awarded, revoked, deducted, deductions)


def test_the_window_is_calendar_months_in_shanghai() -> None:
    assert window(AS_OF, 3) == ["2026-10", "2026-11", "2026-12"]
    assert window(datetime(2026, 1, 15, tzinfo=UTC), 2) == ["2025-12", "2026-01"]


def test_a_hand_computed_score() -> None:
    rows = [
        # garbage sorting, weight 1.0, cap 30: 45 → 30 in one month, 20 in another
        _row("lijiayuan", "garbage_sorting", "2026-11", awarded=50, revoked=5),
        _row("lijiayuan", "garbage_sorting", "2026-10", awarded=20),
        # safety patrol, weight 2.0, cap 40, on nanyang (platform weight 0.5): 40 × 2 × 0.5
        _row("nanyang_young", "safety_patrol", "2026-12", awarded=70, deducted=3, deductions=1),
        # volunteering is not in the document: weight 0, but the month is active
        _row("lijiayuan", "volunteering", "2026-09", awarded=10),
        # wuhe is not in the document: weight 0
        _row("wuhe_zhonglian", "garbage_sorting", "2026-08", awarded=30, deducted=10,
             deductions=2),
        # outside the 12-month window
        _row("lijiayuan", "garbage_sorting", "2025-12", awarded=30),
    ]
    score = compute_score(RULES, rows, AS_OF)
    # 30 + 20 + 40 − 2.0 × 3 × 0.5 = 87
    assert score.score == 87
    assert score.active_months == 5  # 08, 09, 10, 11, 12
    assert score.deductions == 3
    garbage = next(line for line in score.categories
                   if (line.platform, line.category) == ("lijiayuan", "garbage_sorting"))
    assert (garbage.points, garbage.capped_points, garbage.contribution) == (65, 50, 50)
    assert [(line.platform, line.contribution) for line in score.deduction_lines] == [
        ("nanyang_young", -3), ("wuhe_zhonglian", 0)]
    # Not ≥ 100: the unconditional last tier.
    assert choose_terms(RULES, score) == Terms(2, 0, 0)


def test_fractions_round_down_once_and_never_below_zero() -> None:
    document = copy.deepcopy(SPEC_EXAMPLE)
    document["platforms"]["lijiayuan"]["weight"] = "0.333333"
    rules = parse_ruleset(document, PLATFORMS)
    rows = [_row("lijiayuan", "garbage_sorting", "2026-11", awarded=3)] * 1
    assert compute_score(rules, rows, AS_OF).score == 0  # 0.999999
    rows = [_row("lijiayuan", "garbage_sorting", f"2026-{month:02d}", awarded=3)
            for month in range(1, 13)]
    assert compute_score(rules, rows, AS_OF).score == 11  # 11.999988 (one sum, then floor)
    deducting = [_row("lijiayuan", "garbage_sorting", "2026-11", awarded=1, deducted=50)]
    assert compute_score(rules, deducting, AS_OF).score == 0


def test_tiers_in_order_and_caps_last() -> None:
    document = copy.deepcopy(SPEC_EXAMPLE)
    document["caps"] = {"limit_uplift_cny_max": 80000, "rate_discount_bp_max": 20}
    rules = parse_ruleset(document, PLATFORMS)
    months = [f"2026-{month:02d}" for month in range(6, 12)]
    rows = [_row("lijiayuan", "safety_patrol", month, awarded=60) for month in months]
    score = compute_score(rules, rows, AS_OF)  # 6 × 40 × 2.0 = 480
    assert (score.score, score.active_months) == (480, 6)
    assert choose_terms(rules, score) == Terms(1, 20000, 5)
    rows += [_row("lijiayuan", "garbage_sorting", month, awarded=30) for month in months]
    assert compute_score(rules, rows, AS_OF).score == 660
    assert choose_terms(rules, compute_score(rules, rows, AS_OF)) == Terms(0, 80000, 20)
    # One deduction event and the first tier is out of reach, whatever the score.
    rows.append(_row("lijiayuan", "garbage_sorting", "2026-11", deducted=1, deductions=1))
    assert choose_terms(rules, compute_score(rules, rows, AS_OF)).tier == 1


def _reference_score(rules: RuleSet, document: dict[str, Any], rows: list[MonthRow]) -> int:
    """SPEC §8 read literally, month by month, with exact fractions."""
    months = window(AS_OF, document["window_months"])
    total = Fraction(0)
    for platform in PLATFORMS:
        platform_weight = Fraction(document["platforms"].get(platform, {}).get("weight", "0"))
        for month in months:
            mine = [row for row in rows if row.platform == platform and row.month == month]
            for category in {row.category for row in mine}:
                rule = document["categories"].get(category, {"weight": "0"})
                net = sum(row.awarded - row.revoked for row in mine if row.category == category)
                cap = rule.get("monthly_cap")
                capped = net if cap is None else min(net, cap)
                total += capped * Fraction(rule["weight"]) * platform_weight
            total -= Fraction(document["deduction_weight"]) * \
                sum(row.deducted for row in mine) * platform_weight
    return max(0, int(total // 1))


ROWS = st.lists(st.builds(
    _row, st.sampled_from(PLATFORMS),
    st.sampled_from(["garbage_sorting", "safety_patrol", "volunteering"]),
    st.sampled_from(["2025-11", "2025-12", "2026-01", "2026-06", "2026-11", "2026-12"]),
    awarded=st.integers(0, 200), deducted=st.integers(0, 50), deductions=st.integers(0, 3),
), max_size=30)


@given(ROWS)
def test_the_score_equals_a_literal_reading_of_the_spec(rows: list[MonthRow]) -> None:
    assert compute_score(RULES, rows, AS_OF).score == _reference_score(RULES, SPEC_EXAMPLE, rows)
