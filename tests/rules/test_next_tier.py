"""What the next tier asks of a resident, and how far they are from it (SPEC §13, PIPL Art. 24).

The SPEC §8 example: ≥ 600 points in ≥ 6 active months without deductions → 100 000 CNY and
30 bp; ≥ 100 → 20 000 CNY and 5 bp; else nothing.
"""

from __future__ import annotations

from typing import Any

from ledger.domain.next_tier import (
    MAX_DEDUCTIONS,
    MIN_ACTIVE_MONTHS,
    MIN_SCORE,
    Requirement,
    Standing,
    next_tier,
)
from ledger.domain.ruleset import RuleSet, parse_ruleset
from tests.rules.support import spec_document

PLATFORMS = ("lijiayuan", "nanyang_young")


def _rules(**changes: Any) -> RuleSet:
    return parse_ruleset(spec_document(**changes), PLATFORMS)


def test_from_the_bottom_the_next_tier_is_the_one_just_above() -> None:
    found = next_tier(_rules(), 2, Standing(score=40, active_months=1, deductions=0))

    assert found is not None
    assert (found.index, found.limit_uplift_cny, found.rate_discount_bp) == (1, 20000, 5)
    assert found.requirements == (Requirement(MIN_SCORE, 100, 40, 60),)


def test_each_condition_says_how_far_the_resident_is() -> None:
    found = next_tier(_rules(), 1, Standing(score=450, active_months=7, deductions=2))

    assert found is not None and found.index == 0
    assert found.requirements == (
        Requirement(MIN_SCORE, 600, 450, 150),
        Requirement(MIN_ACTIVE_MONTHS, 6, 7, 0),
        Requirement(MAX_DEDUCTIONS, 0, 2, 2),  # two deductions too many
    )
    assert [requirement.met for requirement in found.requirements] == [False, True, False]


def test_at_the_top_there_is_no_next_tier() -> None:
    assert next_tier(_rules(), 0, Standing(score=900, active_months=12, deductions=0)) is None


def test_a_tier_the_caps_make_no_better_is_not_the_next() -> None:
    rules = _rules(
        tiers=[{"when": {"min_score": 900}, "limit_uplift_cny": 300000, "rate_discount_bp": 5},
               {"when": {"min_score": 100}, "limit_uplift_cny": 50000, "rate_discount_bp": 5},
               {"when": {}, "limit_uplift_cny": 0, "rate_discount_bp": 0}],
        caps={"limit_uplift_cny_max": 50000, "rate_discount_bp_max": 50})

    assert next_tier(rules, 1, Standing(score=150, active_months=3, deductions=0)) is None
    from_bottom = next_tier(rules, 2, Standing(score=0, active_months=0, deductions=0))
    assert from_bottom is not None and from_bottom.index == 1


def test_a_tier_listed_earlier_but_giving_less_is_skipped() -> None:
    rules = _rules(
        tiers=[{"when": {"min_score": 800}, "limit_uplift_cny": 90000, "rate_discount_bp": 20},
               {"when": {"min_score": 500}, "limit_uplift_cny": 10000, "rate_discount_bp": 0},
               {"when": {"min_score": 300}, "limit_uplift_cny": 20000, "rate_discount_bp": 5},
               {"when": {}, "limit_uplift_cny": 0, "rate_discount_bp": 0}])

    found = next_tier(rules, 2, Standing(score=350, active_months=3, deductions=0))

    assert found is not None and found.index == 0
    assert found.requirements == (Requirement(MIN_SCORE, 800, 350, 450),)
