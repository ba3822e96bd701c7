"""Every resident's terms under two rule sets at once, for a simulation (SPEC §8).

On PostgreSQL the scores, active months, deductions, tiers and home platforms of all residents
are computed in one statement over the monthly contribution table, and only the count of
residents per (home platform, tier before, tier after) comes back: the population never
travels to Python. The arithmetic is the same as `ledger.domain.scoring` (exact: weights
scaled to whole numbers, or numerics, and floored once), which the tests check resident by
resident. On SQLite (the embedded mode, a small population) the rows are streamed in resident
order through `ledger.domain.scoring`.

A resident is anyone with a balance row (any entry at all), counted under their home platform
(`ledger.domain.impact.home_platform`, the rule's one definition, which the statement follows).
The figures count every entry recorded in the window's months (SPEC §8: "as of now").
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from itertools import groupby
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from ledger.contract.categories import Category
from ledger.domain.impact import ImpactTally, TermsPair, home_platform
from ledger.domain.ruleset import RuleSet
from ledger.domain.scoring import MonthRow, Terms, choose_terms, compute_score, window
from ledger.infra.db.models import Balance, MonthlyContribution, Platform

NO_TERMS = Terms(-1, 0, 0)
# Months of active-month bits per BIGINT mask (below 63, so a bit never reaches the sign).
MASK_BITS = 62
STREAM_BATCH_SIZE = 5000
# A scaled weight above this would overflow a bigint product with a month's points in the
# billions, not implausibly many: such a rule set is summed in numerics straight away.
SCALED_WEIGHT_MAX = 2**31
NUMERIC_VALUE_OUT_OF_RANGE = "22003"  # SQLSTATE of a bigint product out of range


def population_impact(session: Session, before: RuleSet | None, after: RuleSet,
                      as_of: datetime) -> ImpactTally:
    if session.get_bind().dialect.name == "postgresql":
        return _impact_in_database(session, before, after, as_of)
    return _impact_streamed(session, before, after, as_of)


def terms_of(rules: RuleSet | None, tier: int) -> Terms:
    if rules is None or tier < 0:
        return NO_TERMS
    chosen = rules.tiers[tier]
    return Terms(tier, min(chosen.limit_uplift_cny, rules.caps.limit_uplift_cny_max),
                 min(chosen.rate_discount_bp, rules.caps.rate_discount_bp_max))


def _pair(before: Terms, after: Terms) -> TermsPair:
    return TermsPair(before.limit_uplift_cny, before.rate_discount_bp, after.limit_uplift_cny,
                     after.rate_discount_bp)


# -- SQLite: stream through the domain model ---------------------------------------------------

def _impact_streamed(session: Session, before: RuleSet | None, after: RuleSet,
                     as_of: datetime) -> ImpactTally:
    candidate_months = set(window(as_of, after.window_months))
    tally = ImpactTally()
    for resident_platforms, rows in _residents(session, before, after, as_of):
        terms_before = NO_TERMS if before is None else \
            choose_terms(before, compute_score(before, rows, as_of))
        terms_after = choose_terms(after, compute_score(after, rows, as_of))
        tally.add(home_platform(resident_platforms, rows, candidate_months),
                  _pair(terms_before, terms_after))
    return tally


def _residents(session: Session, before: RuleSet | None, after: RuleSet, as_of: datetime
               ) -> Iterator[tuple[list[str], list[MonthRow]]]:
    """(platforms, month rows) per resident, both read in resident order and merged."""
    longest = max(after.window_months, before.window_months if before else 0)
    months = window(as_of, longest)
    balances = session.execute(
        select(Balance.resident, Balance.platform).order_by(Balance.resident, Balance.platform)
        .execution_options(yield_per=STREAM_BATCH_SIZE))
    contribution = MonthlyContribution
    month_rows = session.execute(
        select(contribution.resident, contribution.platform, contribution.category,
               contribution.month, contribution.awarded, contribution.revoked,
               contribution.deducted, contribution.deductions)
        .where(contribution.month.in_(months)).order_by(contribution.resident)
        .execution_options(yield_per=STREAM_BATCH_SIZE))
    pending = next(month_rows, None)
    for resident, group in groupby(balances, key=lambda row: row.resident):
        rows: list[MonthRow] = []
        while pending is not None and pending.resident <= resident:
            if pending.resident == resident:
                rows.append(MonthRow(*pending[1:]))
            pending = next(month_rows, None)
        yield [row.platform for row in group], rows


# -- PostgreSQL: one statement -----------------------------------------------------------------

@dataclass(frozen=True)
class _Version:
    """One rule set's share of the statement's parameters (prefix `a` before, `b` after).

    `scale`: the power of ten that makes each of its weights (× platform weight) a whole
    number, for the statement to sum whole numbers; None: it sums the numeric weights.
    """

    prefix: str
    rules: RuleSet | None
    months: list[str]
    scale: int | None = None

    @property
    def slots(self) -> int:
        return -(-len(self.months) // MASK_BITS)


def _impact_in_database(session: Session, before: RuleSet | None, after: RuleSet,
                        as_of: datetime) -> ImpactTally:
    def statement(whole: bool) -> tuple[str, dict[str, Any]]:
        scored, parameters, (tier_before, tier_after) = _scored(session, before, after, as_of,
                                                                whole)
        return (f"{scored} SELECT home, {tier_before}, {tier_after}, count(*) "  # noqa: S608
                "FROM scored GROUP BY 1, 2, 3"), parameters

    tally = ImpactTally()
    for home, tier_before_index, tier_after_index, residents in _rows(session, statement):
        tally.add(home, _pair(terms_of(before, tier_before_index),
                              terms_of(after, tier_after_index)), residents)
    return tally


@dataclass(frozen=True)
class ResidentScore:
    home: str
    score: int
    active_months: int
    deductions: int
    tier: int


def resident_scores(session: Session, rules: RuleSet, as_of: datetime
                    ) -> dict[str, ResidentScore]:
    """What the statement computes for each resident under `rules` (PostgreSQL), for an
    auditor (or a test) to hold against `ledger.domain.scoring` resident by resident."""
    def statement(whole: bool) -> tuple[str, dict[str, Any]]:
        scored, parameters, (_, tier) = _scored(session, None, rules, as_of, whole)
        return (f"{scored} SELECT resident, home, b_score, b_active, "  # noqa: S608
                f"b_deductions, {tier} FROM scored"), parameters

    return {row[0]: ResidentScore(row[1], int(row[2]), int(row[3]), int(row[4]), int(row[5]))
            for row in _rows(session, statement)}


def _rows(session: Session, statement: Callable[[bool], tuple[str, dict[str, Any]]]
          ) -> Sequence[Any]:
    """The statement's rows, summed in whole numbers; in numerics if a product overflows.

    PostgreSQL refuses a bigint product out of range (it never wraps around), and the
    savepoint keeps the snapshot for the second try: the figures are exact either way.
    """
    text_whole, parameters = statement(True)
    try:
        with session.begin_nested():
            return session.execute(text(text_whole), parameters).all()
    except DBAPIError as error:
        if getattr(error.orig, "sqlstate", None) != NUMERIC_VALUE_OUT_OF_RANGE:
            raise
    text_numeric, parameters = statement(False)
    return session.execute(text(text_numeric), parameters).all()


def _scored(session: Session, before: RuleSet | None, after: RuleSet, as_of: datetime,
            whole: bool) -> tuple[str, dict[str, Any], tuple[str, str]]:
    """The WITH clause ending in `scored` (a row per resident), its parameters, and the tier
    expressions of both versions over `scored`. `whole`: sum whole numbers (the weights times
    a power of ten) where the weights allow it, else the numeric weights."""
    platforms = sorted(session.scalars(select(Platform.code)).all())
    versions = [_version(prefix, rules, as_of, whole)
                for prefix, rules in (("a", before), ("b", after))]
    ruled = [version for version in versions if version.rules is not None]
    windows = _windows(ruled)
    parameters: dict[str, Any] = {
        f"platform_{index}": code for index, code in enumerate(platforms)}
    parameters.update(_weights(ruled, windows, platforms))
    statement = _statement(ruled, windows, len(platforms))
    return statement, parameters, (_tier_case(versions[0]), _tier_case(versions[1]))


def _version(prefix: str, rules: RuleSet | None, as_of: datetime, whole: bool) -> _Version:
    if rules is None:
        return _Version(prefix, None, [])
    months = window(as_of, rules.window_months)
    if not whole:
        return _Version(prefix, rules, months)
    weights = [weight for _, _, weight, deduction in _products(rules) for weight in
               (weight, deduction)]
    places = max((max(0, -int(weight.normalize().as_tuple().exponent)) for weight in weights),
                 default=0)
    scale = 10**places
    if any(weight * scale > SCALED_WEIGHT_MAX for weight in weights):
        return _Version(prefix, rules, months)  # numerics straight away
    return _Version(prefix, rules, months, scale)


def _products(rules: RuleSet) -> Iterator[tuple[str, str, Decimal, Decimal]]:
    """Per platform weighed and category: category weight × platform weight and deduction
    weight × platform weight. A platform or category that is not weighed weighs 0."""
    for platform, platform_weight in sorted(rules.platform_weights.items()):
        for category in Category:
            rule = rules.categories.get(category)
            yield (platform, category.value,
                   Decimal(0) if rule is None else rule.weight * platform_weight,
                   rules.deduction_weight * platform_weight)


def _windows(versions: Sequence[_Version]) -> dict[str, _Version]:
    """For each version, the first version with the same months: the active months and the
    deductions of a window are aggregated once, however many versions share it."""
    return {version.prefix: next(other for other in versions if other.months == version.months)
            for version in versions}


def _weights(versions: Sequence[_Version], windows: dict[str, _Version],
             platforms: list[str]) -> dict[str, list[Any]]:
    """One row per platform, category and month of any window, with what a monthly row there
    counts for: per version its cap and (scaled) weights, 0 outside its window; per window
    whether the month is in it, and its active-month bit."""
    every = sorted({month for version in versions for month in version.months})
    columns: dict[str, list[Any]] = {"w_platform": [], "w_category": [], "w_month": [],
                                     "w_platform_index": []}
    by_version = {version.prefix: {(platform, category): (weight, deduction)
                                   for platform, category, weight, deduction
                                   in _products(version.rules)}
                  for version in versions if version.rules is not None}
    shared = {window.prefix: window for window in windows.values()}
    for index, platform in enumerate(platforms):
        for category in Category:
            for month in every:
                columns["w_platform"].append(platform)
                columns["w_category"].append(category.value)
                columns["w_month"].append(month)
                columns["w_platform_index"].append(index)
                for version in versions:
                    _add_weights(columns, version, by_version[version.prefix],
                                 platform, category, month)
                for window_version in shared.values():
                    _add_month(columns, window_version, month)
    return columns


def _add_weights(columns: dict[str, list[Any]], version: _Version,
                 products: dict[tuple[str, str], tuple[Decimal, Decimal]], platform: str,
                 category: Category, month: str) -> None:
    p = version.prefix
    assert version.rules is not None
    rule = version.rules.categories.get(category)
    weight, deduction = products.get((platform, category.value), (Decimal(0), Decimal(0)))
    if month not in version.months:
        weight = deduction = Decimal(0)
    columns.setdefault(f"{p}_cap", []).append(None if rule is None else rule.monthly_cap)
    columns.setdefault(f"{p}_weight", []).append(_scaled(weight, version.scale))
    columns.setdefault(f"{p}_deduction", []).append(_scaled(deduction, version.scale))


def _scaled(weight: Decimal, scale: int | None) -> int | Decimal:
    if scale is None:
        return weight
    scaled = weight * scale
    assert scaled == scaled.to_integral_value(), "the scale makes every weight whole"
    return int(scaled)


def _add_month(columns: dict[str, list[Any]], window_version: _Version, month: str) -> None:
    q = window_version.prefix
    position = (window_version.months.index(month) if month in window_version.months
                else None)
    columns.setdefault(f"{q}_in", []).append(position is not None)
    columns.setdefault(f"{q}_slot", []).append(
        None if position is None else position // MASK_BITS)
    columns.setdefault(f"{q}_bit", []).append(
        None if position is None else 1 << (position % MASK_BITS))


def _statement(versions: Sequence[_Version], windows: dict[str, _Version],
               platform_count: int) -> str:
    """The SQL for the versions that have rules; every value travels as a parameter, only
    shapes (counts of masks, platforms, tiers), the type of the weights, their scales (powers
    of ten) and tier thresholds (integers of a validated rule set) are written into the text.

    Monthly rows meet their weights in one hash join with a small table (platform × category
    × month of the windows: the ledger's monthly rows are in the categories of SPEC §4.2 only,
    which every envelope is checked against), and each version's contribution is summed as
    bigint products of whole numbers, exact and cheaper than numeric products; the sum is
    divided by the scale once per resident, rounding down as `ledger.domain.scoring` does.
    Versions with the same window share its active months and deductions.
    """
    shared = list({window.prefix: window for window in windows.values()}.values())
    weight_columns = [
        f"CAST(:{v.prefix}_cap AS bigint[]), CAST(:{v.prefix}_weight AS {_type(v)}[]), "
        f"CAST(:{v.prefix}_deduction AS {_type(v)}[])" for v in versions]
    weight_columns.extend(
        f"CAST(:{q.prefix}_in AS boolean[]), CAST(:{q.prefix}_slot AS integer[]), "
        f"CAST(:{q.prefix}_bit AS bigint[])" for q in shared)
    weight_names = [f"{v.prefix}_cap, {v.prefix}_weight, {v.prefix}_deduction"
                    for v in versions]
    weight_names.extend(f"{q.prefix}_in, {q.prefix}_slot, {q.prefix}_bit" for q in shared)
    aggregates: list[str] = [
        f"SUM(LEAST(c.awarded - c.revoked, w.{v.prefix}_cap) * w.{v.prefix}_weight"
        f" - c.deducted * w.{v.prefix}_deduction) AS {v.prefix}_raw" for v in versions]
    for q in shared:
        aggregates.append(
            f"SUM(CASE WHEN w.{q.prefix}_in THEN c.deductions END) AS {q.prefix}_deductions")
        aggregates.extend(
            f"BIT_OR(CASE WHEN w.{q.prefix}_slot = {slot} AND c.awarded > c.revoked "
            f"THEN w.{q.prefix}_bit END) AS {q.prefix}_mask{slot}" for slot in range(q.slots))
    home_window = windows["b"].prefix
    aggregates.extend(
        f"SUM(CASE WHEN w.{home_window}_in THEN c.awarded - c.revoked END) FILTER "
        f"(WHERE w.platform_index = {index}) AS net_{index}" for index in range(platform_count))
    scored: list[str] = []
    for v in versions:
        p, q = v.prefix, windows[v.prefix]
        active = " + ".join(f"COALESCE(bit_count(CAST(p.{q.prefix}_mask{slot} AS bit(64))), 0)"
                            for slot in range(q.slots)) or "0"
        scored.append(f"div(GREATEST(0, COALESCE(p.{p}_raw, 0)), {v.scale or 1}) AS {p}_score")
        scored.append(f"({active}) AS {p}_active")
        scored.append(f"COALESCE(p.{q.prefix}_deductions, 0) AS {p}_deductions")
    # home_platform in SQL: the greatest net (no NULL: platforms without rows are left out),
    # the first platform in code order that has it; if none is above 0, the first platform the
    # resident has a balance on. The same as the function because no net is below 0.
    nets = ", ".join(f"p.net_{index}" for index in range(platform_count))
    greatest = f"GREATEST({nets})" if platform_count else "NULL"
    home_cases = " ".join(f"WHEN p.net_{index} = {greatest} THEN CAST(:platform_{index} AS text)"
                          for index in range(platform_count))
    home = (f"CASE WHEN {greatest} > 0 THEN CASE {home_cases} END "
            "ELSE r.first_platform END") if platform_count else "r.first_platform"
    # Identifiers and shapes come from this module; every value is a bound parameter.
    return f"""
WITH weights AS (
    SELECT * FROM unnest(CAST(:w_platform AS text[]), CAST(:w_category AS text[]),
                         CAST(:w_month AS text[]), CAST(:w_platform_index AS integer[]),
                         {", ".join(weight_columns)})
    AS w(platform, category, month, platform_index, {", ".join(weight_names)})),
per_resident AS (
    SELECT c.resident, {", ".join(aggregates)}
    FROM monthly_contributions c JOIN weights w ON w.platform = c.platform
        AND w.category = c.category AND w.month = c.month
    GROUP BY c.resident),
residents AS (SELECT resident, MIN(platform) AS first_platform FROM balances GROUP BY resident),
scored AS (
    SELECT r.resident, {home} AS home, {", ".join(scored)}
    FROM residents r LEFT JOIN per_resident p ON p.resident = r.resident)
"""  # noqa: S608


def _type(version: _Version) -> str:
    return "numeric" if version.scale is None else "bigint"


def _tier_case(version: _Version) -> str:
    rules = version.rules
    if rules is None:
        return "-1"
    p = version.prefix
    cases: list[str] = []
    for index, tier in enumerate(rules.tiers):
        conditions = []
        if tier.when.min_score is not None:
            conditions.append(f"{p}_score >= {int(tier.when.min_score)}")
        if tier.when.min_active_months is not None:
            conditions.append(f"{p}_active >= {int(tier.when.min_active_months)}")
        if tier.when.max_deductions is not None:
            conditions.append(f"{p}_deductions <= {int(tier.when.max_deductions)}")
        if not conditions:
            cases.append(f"ELSE {index}")
            break
        cases.append(f"WHEN {' AND '.join(conditions)} THEN {index}")
    return f"CASE {' '.join(cases)} END"
