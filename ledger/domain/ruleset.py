"""The rule-set document of SPEC §8, validated strictly into an immutable RuleSet.

A risk officer writes the document; a mistake in it moves credit limits for a whole town, so
everything that is not clearly meant is refused, each problem named by its path
(`tiers[1].when.min_score`): unknown fields, weights that are not non-negative decimal strings,
unknown platforms or categories, negative amounts or caps, a tier that can never match (an
earlier tier always wins, or it asks for more active months than the window has), and a last
tier that is not unconditional.

The document is kept exactly as written; its identity is the SHA-256 of its RFC 8785 form.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import rfc8785

from ledger.contract.categories import Category

NAME_LENGTH_MAX = 200
WINDOW_MONTHS_MAX = 120
TIERS_MAX = 50
AMOUNT_CNY_MAX = 100_000_000
RATE_DISCOUNT_BP_MAX = 10_000
# Weights: plain decimals with at most 6 places, below 1000 (a weight of 1000 is a typo).
WEIGHT_PATTERN = re.compile(r"(0|[1-9][0-9]{0,2})(\.[0-9]{1,6})?")

FIELDS = frozenset({"name", "window_months", "platforms", "categories", "deduction_weight",
                    "tiers", "caps"})
CONDITION_FIELDS = ("min_score", "min_active_months", "max_deductions")
TIER_FIELDS = frozenset({"when", "limit_uplift_cny", "rate_discount_bp"})
CAP_FIELDS = ("limit_uplift_cny_max", "rate_discount_bp_max")


class RuleSetInvalid(ValueError):
    """`errors` maps each path in the document to what is wrong there."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{path}: {message}" for path, message in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class Conditions:
    min_score: int | None = None
    min_active_months: int | None = None
    max_deductions: int | None = None

    @property
    def unconditional(self) -> bool:
        return self == Conditions()

    def always_holds_when(self, other: Conditions) -> bool:
        """True if every resident meeting `other` also meets these conditions (so a tier with
        `other` placed after one with these could never be chosen). Scores, active months and
        deduction counts are never below 0."""
        return ((self.min_score or 0) <= (other.min_score or 0)
                and (self.min_active_months or 0) <= (other.min_active_months or 0)
                and (self.max_deductions is None
                     or (other.max_deductions is not None
                         and self.max_deductions >= other.max_deductions)))


@dataclass(frozen=True)
class Tier:
    when: Conditions
    limit_uplift_cny: int
    rate_discount_bp: int


@dataclass(frozen=True)
class CategoryRule:
    weight: Decimal
    monthly_cap: int | None  # None: no cap


@dataclass(frozen=True)
class Caps:
    limit_uplift_cny_max: int
    rate_discount_bp_max: int


@dataclass(frozen=True)
class RuleSet:
    name: str
    window_months: int
    platform_weights: Mapping[str, Decimal]  # missing platforms weigh 0
    categories: Mapping[Category, CategoryRule]  # missing categories weigh 0
    deduction_weight: Decimal
    tiers: tuple[Tier, ...]
    caps: Caps

    def platform_weight(self, platform: str) -> Decimal:
        return self.platform_weights.get(platform, Decimal(0))


def document_sha256(document: Mapping[str, Any]) -> str:
    """The rule set's identity: SHA-256 of its canonical (RFC 8785) JSON."""
    return hashlib.sha256(rfc8785.dumps(document)).hexdigest()


def parse_ruleset(document: object, known_platforms: Collection[str]) -> RuleSet:
    """The RuleSet the document describes, or RuleSetInvalid naming every problem found."""
    reader = _Reader()
    if not isinstance(document, dict):
        raise RuleSetInvalid({"$": "a rule set is a JSON object"})
    reader.unknown_fields(document, FIELDS, "")
    name = reader.text(document, "name")
    window = reader.integer(document, "window_months", "window_months", 1, WINDOW_MONTHS_MAX)
    platforms = reader.platforms(document.get("platforms"), known_platforms)
    categories = reader.categories(document.get("categories"))
    deduction_weight = reader.weight(document.get("deduction_weight"), "deduction_weight")
    tiers = reader.tiers(document.get("tiers"), window)
    caps = reader.caps(document.get("caps"))
    if reader.errors:
        raise RuleSetInvalid(reader.errors)
    assert name is not None and window is not None and deduction_weight is not None
    assert caps is not None
    return RuleSet(name, window, platforms, categories, deduction_weight, tiers, caps)


class _Reader:
    """Collects every error rather than stopping at the first: an officer fixes them at once."""

    def __init__(self) -> None:
        self.errors: dict[str, str] = {}

    def fail(self, path: str, message: str) -> None:
        self.errors.setdefault(path, message)

    def unknown_fields(self, value: Mapping[str, Any], allowed: Collection[str],
                       prefix: str) -> None:
        for field in sorted(set(value) - set(allowed)):
            self.fail(_join(prefix, field), "unknown field")

    def text(self, document: Mapping[str, Any], field: str) -> str | None:
        value = document.get(field)
        if not isinstance(value, str) or not value.strip() or len(value) > NAME_LENGTH_MAX:
            self.fail(field, f"must be a non-empty string of at most {NAME_LENGTH_MAX} characters")
            return None
        return value

    def integer(self, container: Mapping[str, Any], field: str, path: str, low: int,
                high: int, required: bool = True) -> int | None:
        if field not in container:
            if required:
                self.fail(path, "missing required field")
            return None
        value = container[field]
        if not isinstance(value, int) or isinstance(value, bool):
            self.fail(path, "must be an integer")
            return None
        if not low <= value <= high:
            self.fail(path, f"must be between {low} and {high}" if low >= 0 and value >= 0
                      else "must not be negative")
            return None
        return value

    def weight(self, value: object, path: str) -> Decimal | None:
        if isinstance(value, int | float) and not isinstance(value, bool):
            self.fail(path, f'must be a decimal string such as "{value}", not a JSON number')
            return None
        if not isinstance(value, str) or WEIGHT_PATTERN.fullmatch(value) is None:
            self.fail(path, 'must be a non-negative decimal string below 1000, such as "1.5"'
                      if not (isinstance(value, str) and value.startswith("-"))
                      else "must not be negative")
            return None
        return Decimal(value)

    def platforms(self, value: object, known: Collection[str]) -> dict[str, Decimal]:
        weights: dict[str, Decimal] = {}
        for code, rule in self._members(value, "platforms"):
            path = f"platforms.{code}"
            if code not in known:
                self.fail(path, "unknown platform")
                continue
            if not isinstance(rule, dict):
                self.fail(path, 'must be an object such as {"weight": "1.0"}')
                continue
            self.unknown_fields(rule, ("weight",), path)
            weight = self.weight(rule.get("weight"), f"{path}.weight")
            if weight is not None:
                weights[code] = weight
        return weights

    def categories(self, value: object) -> dict[Category, CategoryRule]:
        rules: dict[Category, CategoryRule] = {}
        for code, rule in self._members(value, "categories"):
            path = f"categories.{code}"
            if code not in {category.value for category in Category}:
                self.fail(path, "unknown category")
                continue
            if not isinstance(rule, dict):
                self.fail(path, 'must be an object such as {"weight": "1.0", "monthly_cap": 30}')
                continue
            self.unknown_fields(rule, ("weight", "monthly_cap"), path)
            weight = self.weight(rule.get("weight"), f"{path}.weight")
            cap = self.integer(rule, "monthly_cap", f"{path}.monthly_cap", 0, AMOUNT_CNY_MAX,
                               required=False)
            if weight is not None:
                rules[Category(code)] = CategoryRule(weight, cap)
        return rules

    def _members(self, value: object, path: str) -> list[tuple[str, Any]]:
        if not isinstance(value, dict):
            self.fail(path, "must be an object")
            return []
        return list(value.items())

    def tiers(self, value: object, window_months: int | None) -> tuple[Tier, ...]:
        if not isinstance(value, list) or not 1 <= len(value) <= TIERS_MAX:
            self.fail("tiers", f"must be a list of 1 to {TIERS_MAX} tiers")
            return ()
        tiers: list[Tier] = []
        for index, item in enumerate(value):
            tier = self._tier(item, f"tiers[{index}]", window_months)
            if tier is None:
                continue
            for earlier_index, earlier in enumerate(tiers):
                if earlier.when.always_holds_when(tier.when):
                    self.fail(f"tiers[{index}]", f"can never match: tiers[{earlier_index}] "
                              "matches every resident it would")
                    break
            tiers.append(tier)
        last = value[-1]
        if isinstance(last, dict) and last.get("when") != {}:
            self.fail(f"tiers[{len(value) - 1}].when",
                      'the last tier must be unconditional ("when": {})')
        return tuple(tiers)

    def _tier(self, item: object, path: str, window_months: int | None) -> Tier | None:
        if not isinstance(item, dict):
            self.fail(path, "must be an object")
            return None
        self.unknown_fields(item, TIER_FIELDS, path)
        when = item.get("when")
        conditions: dict[str, int | None] = {}
        if not isinstance(when, dict):
            self.fail(f"{path}.when", "must be an object (empty: always)")
        else:
            self.unknown_fields(when, CONDITION_FIELDS, f"{path}.when")
            for field in CONDITION_FIELDS:
                conditions[field] = self.integer(when, field, f"{path}.when.{field}", 0,
                                                 AMOUNT_CNY_MAX, required=False)
            months = conditions.get("min_active_months")
            if window_months is not None and months is not None and months > window_months:
                self.fail(f"{path}.when.min_active_months",
                          f"can never match: the window has only {window_months} months")
        uplift = self.integer(item, "limit_uplift_cny", f"{path}.limit_uplift_cny", 0,
                              AMOUNT_CNY_MAX)
        discount = self.integer(item, "rate_discount_bp", f"{path}.rate_discount_bp", 0,
                                RATE_DISCOUNT_BP_MAX)
        if not isinstance(when, dict) or uplift is None or discount is None:
            return None
        return Tier(Conditions(**conditions), uplift, discount)

    def caps(self, value: object) -> Caps | None:
        if not isinstance(value, dict):
            self.fail("caps", "must be an object")
            return None
        self.unknown_fields(value, CAP_FIELDS, "caps")
        uplift = self.integer(value, "limit_uplift_cny_max", "caps.limit_uplift_cny_max", 0,
                              AMOUNT_CNY_MAX)
        discount = self.integer(value, "rate_discount_bp_max", "caps.rate_discount_bp_max", 0,
                                RATE_DISCOUNT_BP_MAX)
        if uplift is None or discount is None:
            return None
        return Caps(uplift, discount)


def _join(prefix: str, field: str) -> str:
    return f"{prefix}.{field}" if prefix else field
