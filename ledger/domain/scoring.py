"""The contribution score and the credit terms of SPEC §8, from monthly contribution rows.

Pure and exact: Decimal arithmetic, the score rounded down once at the end, calendar months
(Asia/Shanghai, as the ledger's monthly table keeps them). The caller reads the rows of one
resident from the ledger's monthly contribution (never by rescanning raw events).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_FLOOR, Decimal
from zoneinfo import ZoneInfo

from ledger.contract.categories import Category
from ledger.domain.ruleset import CategoryRule, Conditions, RuleSet

SHANGHAI = ZoneInfo("Asia/Shanghai")
NO_RULE = CategoryRule(Decimal(0), None)


@dataclass(frozen=True)
class MonthRow:
    """One resident's points on one platform, in one category and month (`YYYY-MM`)."""

    platform: str
    category: str
    month: str
    awarded: int
    revoked: int
    deducted: int
    deductions: int  # deduction events


@dataclass(frozen=True)
class CategoryLine:
    platform: str
    category: str
    points: int  # net awarded over the window
    capped_points: int  # the sum of each month's min(net awarded, monthly cap)
    category_weight: Decimal
    platform_weight: Decimal
    contribution: Decimal


@dataclass(frozen=True)
class DeductionLine:
    platform: str
    points: int
    deduction_weight: Decimal
    platform_weight: Decimal
    contribution: Decimal  # negative


@dataclass(frozen=True)
class Score:
    score: int
    active_months: int
    deductions: int
    categories: tuple[CategoryLine, ...]
    deduction_lines: tuple[DeductionLine, ...]


@dataclass(frozen=True)
class Terms:
    tier: int
    limit_uplift_cny: int
    rate_discount_bp: int


def window(as_of: datetime, months: int) -> list[str]:
    """The `months` calendar months (`YYYY-MM`, Shanghai time) ending with the month of as_of."""
    local = as_of.astimezone(SHANGHAI)
    index = local.year * 12 + local.month - 1
    return [f"{(index - back) // 12:04d}-{(index - back) % 12 + 1:02d}"
            for back in range(months - 1, -1, -1)]


def compute_score(rules: RuleSet, rows: Iterable[MonthRow], as_of: datetime) -> Score:
    months = set(window(as_of, rules.window_months))
    # Net awarded per platform, category and month first: the cap is per month.
    net: dict[tuple[str, str, str], int] = defaultdict(int)
    deducted: dict[str, int] = defaultdict(int)
    deductions = 0
    for row in rows:
        if row.month in months:
            net[(row.platform, row.category, row.month)] += row.awarded - row.revoked
            deducted[row.platform] += row.deducted
            deductions += row.deductions
    capped: dict[tuple[str, str], int] = defaultdict(int)
    points: dict[tuple[str, str], int] = defaultdict(int)
    net_by_month: dict[str, int] = defaultdict(int)
    for (platform, category, month), amount in net.items():
        cap = _category_rule(rules, category).monthly_cap
        points[(platform, category)] += amount
        capped[(platform, category)] += amount if cap is None else min(amount, cap)
        net_by_month[month] += amount
    category_lines = tuple(
        CategoryLine(platform, category, points[(platform, category)], capped_points,
                     _category_rule(rules, category).weight, rules.platform_weight(platform),
                     capped_points * _category_rule(rules, category).weight
                     * rules.platform_weight(platform))
        for (platform, category), capped_points in sorted(capped.items()))
    deduction_lines = tuple(
        DeductionLine(platform, total, rules.deduction_weight, rules.platform_weight(platform),
                      -(rules.deduction_weight * total * rules.platform_weight(platform)))
        for platform, total in sorted(deducted.items()) if total)
    total = sum((line.contribution for line in category_lines), Decimal(0)) + \
        sum((line.contribution for line in deduction_lines), Decimal(0))
    score = max(0, int(total.to_integral_value(rounding=ROUND_FLOOR)))
    active = sum(1 for net in net_by_month.values() if net > 0)
    return Score(score, active, deductions, category_lines, deduction_lines)


def choose_terms(rules: RuleSet, score: Score) -> Terms:
    """The first tier whose every condition holds; the caps apply last."""
    for index, tier in enumerate(rules.tiers):
        if _holds(tier.when, score):
            return Terms(index, min(tier.limit_uplift_cny, rules.caps.limit_uplift_cny_max),
                         min(tier.rate_discount_bp, rules.caps.rate_discount_bp_max))
    # A valid rule set ends with an unconditional tier (parse_ruleset refuses others).
    raise AssertionError("the rule set has no unconditional last tier")


def _holds(when: Conditions, score: Score) -> bool:
    return ((when.min_score is None or score.score >= when.min_score)
            and (when.min_active_months is None
                 or score.active_months >= when.min_active_months)
            and (when.max_deductions is None or score.deductions <= when.max_deductions))


def _category_rule(rules: RuleSet, category: str) -> CategoryRule:
    try:
        return rules.categories.get(Category(category), NO_RULE)
    except ValueError:
        return NO_RULE

