"""The rule-set document of SPEC §8: what a risk officer may write, and a clear error, by path,
for everything else."""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from typing import Any

import pytest

from ledger.contract.categories import Category
from ledger.domain.ruleset import (
    CategoryRule,
    Conditions,
    RuleSetInvalid,
    document_sha256,
    parse_ruleset,
)

PLATFORMS = ("lijiayuan", "nanyang_young", "wuhe_zhonglian", "pingan_gongfu")
SPEC_EXAMPLE: dict[str, Any] = {
    "name": "Contribution credit policy 2026-Q4",
    "window_months": 12,
    "platforms": {"lijiayuan": {"weight": "1.0"}, "nanyang_young": {"weight": "0.5"}},
    "categories": {"garbage_sorting": {"weight": "1.0", "monthly_cap": 30},
                   "safety_patrol": {"weight": "2.0", "monthly_cap": 40}},
    "deduction_weight": "2.0",
    "tiers": [
        {"when": {"min_score": 600, "min_active_months": 6, "max_deductions": 0},
         "limit_uplift_cny": 100000, "rate_discount_bp": 30},
        {"when": {"min_score": 100}, "limit_uplift_cny": 20000, "rate_discount_bp": 5},
        {"when": {}, "limit_uplift_cny": 0, "rate_discount_bp": 0},
    ],
    "caps": {"limit_uplift_cny_max": 200000, "rate_discount_bp_max": 50},
}


def _errors(change: Any) -> dict[str, str]:
    document = copy.deepcopy(SPEC_EXAMPLE)
    change(document)
    with pytest.raises(RuleSetInvalid) as invalid:
        parse_ruleset(document, PLATFORMS)
    return invalid.value.errors


def test_the_spec_example_reads_as_written() -> None:
    rules = parse_ruleset(SPEC_EXAMPLE, PLATFORMS)
    assert rules.window_months == 12
    assert rules.platform_weight("nanyang_young") == Decimal("0.5")
    assert rules.platform_weight("wuhe_zhonglian") == 0  # missing platforms weigh 0
    assert rules.categories[Category.SAFETY_PATROL] == CategoryRule(Decimal("2.0"), 40)
    assert Category.VOLUNTEERING not in rules.categories
    assert rules.tiers[0].when == Conditions(600, 6, 0)
    assert rules.tiers[2].when.unconditional
    assert rules.caps.rate_discount_bp_max == 50


def test_the_hash_ignores_key_order_and_whitespace_but_not_content() -> None:
    reordered = json.loads(json.dumps(dict(reversed(list(SPEC_EXAMPLE.items()))), indent=2))
    assert document_sha256(reordered) == document_sha256(SPEC_EXAMPLE)
    changed = copy.deepcopy(SPEC_EXAMPLE)
    changed["tiers"][1]["limit_uplift_cny"] = 20001
    assert document_sha256(changed) != document_sha256(SPEC_EXAMPLE)


DELETE = object()


def _set(path: str, value: Any) -> Any:
    """A change that sets document[path] (dotted, with [i] for list items) to value."""
    def change(document: dict[str, Any]) -> None:
        target: Any = document
        parts = path.replace("[", ".").replace("]", "").split(".")
        for part in parts[:-1]:
            target = target[int(part)] if part.isdigit() else target[part]
        last = parts[-1]
        if value is DELETE:
            del target[int(last) if last.isdigit() else last]
        else:
            target[int(last) if last.isdigit() else last] = value
    return change


@pytest.mark.parametrize(("path", "value", "error_path", "message"), [
    ("platforms.lijiayuan.weight", "-1.0", "platforms.lijiayuan.weight", "must not be negative"),
    ("platforms.lijiayuan.weight", 1.0, "platforms.lijiayuan.weight", "decimal string"),
    ("platforms.lijiayuan.weight", "1e3", "platforms.lijiayuan.weight", "decimal string"),
    ("platforms.shanghai_points", {"weight": "1"}, "platforms.shanghai_points",
     "unknown platform"),
    ("categories.shopping", {"weight": "1"}, "categories.shopping", "unknown category"),
    ("categories.garbage_sorting.monthly_cap", -5, "categories.garbage_sorting.monthly_cap",
     "must not be negative"),
    ("categories.garbage_sorting.weight", None, "categories.garbage_sorting.weight",
     "decimal string"),
    ("deduction_weight", "abc", "deduction_weight", "decimal string"),
    ("tiers[1].limit_uplift_cny", -20000, "tiers[1].limit_uplift_cny", "must not be negative"),
    ("tiers[1].rate_discount_bp", True, "tiers[1].rate_discount_bp", "must be an integer"),
    ("tiers[1].when.min_score", "100", "tiers[1].when.min_score", "must be an integer"),
    ("tiers[1].when.min_karma", 3, "tiers[1].when.min_karma", "unknown field"),
    ("caps.limit_uplift_cny_max", -1, "caps.limit_uplift_cny_max", "must not be negative"),
    ("caps", DELETE, "caps", "must be an object"),
    ("window_months", 0, "window_months", "between 1 and 120"),
    ("name", "", "name", "non-empty"),
    ("colour", "blue", "colour", "unknown field"),
    ("tiers[2].when", {"min_score": 1}, "tiers[2].when", "last tier must be unconditional"),
    ("tiers[0].when.min_active_months", 13, "tiers[0].when.min_active_months",
     "can never match"),
    ("tiers", [], "tiers", "must be a list"),
])
def test_each_mistake_is_named_by_its_path(path: str, value: Any, error_path: str,
                                           message: str) -> None:
    errors = _errors(_set(path, value))
    assert message in errors.get(error_path, ""), errors


@pytest.mark.parametrize(("earlier", "later", "unreachable"), [
    ({"min_score": 100}, {"min_score": 600}, True),  # every 600 is also ≥ 100
    ({"min_score": 600}, {"min_score": 100}, False),
    ({}, {"min_score": 100}, True),  # an unconditional tier before others
    ({"min_score": 100, "max_deductions": 2}, {"min_score": 100, "max_deductions": 0}, True),
    ({"min_score": 100, "max_deductions": 0}, {"min_score": 100}, False),
    ({"min_active_months": 6}, {"min_score": 600}, False),
    ({"min_active_months": 6}, {"min_score": 600, "min_active_months": 8}, True),
])
def test_a_tier_an_earlier_one_always_wins_over_is_refused(
        earlier: dict[str, int], later: dict[str, int], unreachable: bool) -> None:
    document = copy.deepcopy(SPEC_EXAMPLE)
    document["tiers"] = [
        {"when": earlier, "limit_uplift_cny": 50000, "rate_discount_bp": 10},
        {"when": later, "limit_uplift_cny": 30000, "rate_discount_bp": 5},
        {"when": {}, "limit_uplift_cny": 0, "rate_discount_bp": 0},
    ]
    if not unreachable:
        parse_ruleset(document, PLATFORMS)
        return
    with pytest.raises(RuleSetInvalid) as invalid:
        parse_ruleset(document, PLATFORMS)
    assert "can never match: tiers[0]" in invalid.value.errors["tiers[1]"]


def test_every_problem_is_reported_at_once() -> None:
    def break_three(document: dict[str, Any]) -> None:
        document["deduction_weight"] = "-2"
        document["caps"]["rate_discount_bp_max"] = -1
        document["platforms"]["nowhere"] = {"weight": "1"}
    assert set(_errors(break_three)) == {"deduction_weight", "caps.rate_discount_bp_max",
                                         "platforms.nowhere"}


@pytest.mark.parametrize("document", [None, [], "rules", 3])
def test_a_document_that_is_not_an_object_is_refused(document: object) -> None:
    with pytest.raises(RuleSetInvalid, match="a rule set is a JSON object"):
        parse_ruleset(document, PLATFORMS)
