"""What the next tier asks of a resident, and how far they are from it (SPEC §13, PIPL Art. 24).

A resident may ask why their terms are what they are; the answer includes what they would have
to do to get better ones. Tiers are tried in order and the first that holds wins, so the tiers
before the one reached are those the resident missed. The next tier is the nearest of them that
gives better terms (uplift, then discount, after the caps): a tier listed earlier but no better
is nothing to aim for.

For each condition of that tier: what it asks, where the resident stands, and how much is
missing (score points, active months; for deductions, how many too many are in the window:
they leave it as the months go by). Pure: a rule set and a resident's figures in, values out.
"""

from __future__ import annotations

from dataclasses import dataclass

from ledger.domain.ruleset import RuleSet, Tier

MIN_SCORE = "min_score"
MIN_ACTIVE_MONTHS = "min_active_months"
MAX_DEDUCTIONS = "max_deductions"


@dataclass(frozen=True)
class Standing:
    """A resident's figures over the window, as the terms were computed from them."""

    score: int
    active_months: int
    deductions: int


@dataclass(frozen=True)
class Requirement:
    condition: str  # MIN_SCORE, MIN_ACTIVE_MONTHS or MAX_DEDUCTIONS
    required: int
    current: int
    short_by: int  # 0: met; else points or months missing, or deductions too many

    @property
    def met(self) -> bool:
        return self.short_by == 0


@dataclass(frozen=True)
class NextTier:
    index: int  # 0-based, as in the document
    limit_uplift_cny: int  # after the caps
    rate_discount_bp: int  # after the caps
    requirements: tuple[Requirement, ...]


def next_tier(rules: RuleSet, reached: int, standing: Standing) -> NextTier | None:
    """The nearest better tier than `reached` (None: no tier gives better terms)."""
    current = _capped(rules, rules.tiers[reached])
    for index in range(reached - 1, -1, -1):
        tier = rules.tiers[index]
        terms = _capped(rules, tier)
        if terms > current:
            return NextTier(index, terms[0], terms[1], requirements(tier, standing))
    return None


def requirements(tier: Tier, standing: Standing) -> tuple[Requirement, ...]:
    when = tier.when
    found: list[Requirement] = []
    if when.min_score is not None:
        found.append(Requirement(MIN_SCORE, when.min_score, standing.score,
                                 max(0, when.min_score - standing.score)))
    if when.min_active_months is not None:
        found.append(Requirement(MIN_ACTIVE_MONTHS, when.min_active_months,
                                 standing.active_months,
                                 max(0, when.min_active_months - standing.active_months)))
    if when.max_deductions is not None:
        found.append(Requirement(MAX_DEDUCTIONS, when.max_deductions, standing.deductions,
                                 max(0, standing.deductions - when.max_deductions)))
    return tuple(found)


def _capped(rules: RuleSet, tier: Tier) -> tuple[int, int]:
    return (min(tier.limit_uplift_cny, rules.caps.limit_uplift_cny_max),
            min(tier.rate_discount_bp, rules.caps.rate_discount_bp_max))
