"""Every resident's terms under two rule sets at once, for a simulation (SPEC §8).

On PostgreSQL the scores, active months, deductions, tiers and home platforms of all residents
are computed in one statement over the monthly contribution table, and only the count of
residents per (home platform, tier before, tier after) comes back: the population never
travels to Python. The arithmetic is the same as `ledger.domain.scoring` (exact numerics,
floored once), which the tests check resident by resident. On SQLite (the embedded mode, a
small population) the rows are streamed in resident order through `ledger.domain.scoring`.

A resident is anyone with a balance row (any entry at all). Their home platform is the one
where they earned the most net points in the candidate's window; ties, and residents who earned
nothing there, go to the first of their platforms in alphabetical order. The figures count every
entry recorded in the window's months (SPEC §8: "as of now").
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from itertools import groupby
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from ledger.contract.categories import Category
from ledger.domain.impact import ImpactTally, TermsPair
from ledger.domain.ruleset import RuleSet
from ledger.domain.scoring import MonthRow, Terms, choose_terms, compute_score, window
from ledger.infra.db.models import Balance, MonthlyContribution, Platform

NO_TERMS = Terms(-1, 0, 0)
# Months of active-month bits per BIGINT mask (below 63, so a bit never reaches the sign).
MASK_BITS = 62
STREAM_BATCH_SIZE = 5000


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
        tally.add(_home(resident_platforms, rows, candidate_months),
                  _pair(terms_before, terms_after))
    return tally


def _home(platforms: Sequence[str], rows: Sequence[MonthRow], months: set[str]) -> str:
    net = dict.fromkeys(platforms, 0)
    for row in rows:
        if row.month in months:
            net[row.platform] += row.awarded - row.revoked
    return min(net, key=lambda code: (-net[code], code))


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
    """One rule set's share of the statement's parameters (prefix `a` before, `b` after)."""

    prefix: str
    rules: RuleSet | None
    months: list[str]

    @property
    def slots(self) -> int:
        return -(-len(self.months) // MASK_BITS)


def _impact_in_database(session: Session, before: RuleSet | None, after: RuleSet,
                        as_of: datetime) -> ImpactTally:
    scored, parameters, (tier_before, tier_after) = _scored(session, before, after, as_of)
    statement = (f"{scored} SELECT home, {tier_before}, {tier_after}, count(*) "  # noqa: S608
                 "FROM scored GROUP BY 1, 2, 3")
    tally = ImpactTally()
    for home, tier_before_index, tier_after_index, residents in session.execute(
            text(statement), parameters):
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
    scored, parameters, (_, tier) = _scored(session, None, rules, as_of)
    statement = (f"{scored} SELECT resident, home, b_score, b_active, "  # noqa: S608
                 f"b_deductions, {tier} FROM scored")
    return {row[0]: ResidentScore(row[1], int(row[2]), int(row[3]), int(row[4]), int(row[5]))
            for row in session.execute(text(statement), parameters)}


def _scored(session: Session, before: RuleSet | None, after: RuleSet, as_of: datetime
            ) -> tuple[str, dict[str, Any], tuple[str, str]]:
    """The WITH clause ending in `scored` (a row per resident), its parameters, and the tier
    expressions of both versions over `scored`."""
    platforms = sorted(session.scalars(select(Platform.code)).all())
    versions = (_Version("a", before, window(as_of, before.window_months) if before else []),
                _Version("b", after, window(as_of, after.window_months)))
    parameters: dict[str, Any] = {}
    for version in versions:
        parameters.update(_weights(version, platforms))
    parameters.update(_months(versions))
    parameters.update({f"platform_{index}": code for index, code in enumerate(platforms)})
    statement = _statement([version for version in versions if version.rules is not None],
                           len(platforms))
    return statement, parameters, (_tier_case(versions[0]), _tier_case(versions[1]))


def _weights(version: _Version, platforms: list[str]) -> dict[str, list[Any]]:
    """Per (platform, category): the monthly cap, category × platform weight, and deduction
    weight × platform weight. No rules (no active version): no weights at all."""
    p = version.prefix
    columns: dict[str, list[Any]] = {f"{p}_platform": [], f"{p}_category": [], f"{p}_cap": [],
                                     f"{p}_weight": [], f"{p}_deduction": []}
    rules = version.rules
    if rules is None:
        return columns
    for platform in platforms:
        platform_weight = rules.platform_weight(platform)
        for category in Category:
            rule = rules.categories.get(category)
            columns[f"{p}_platform"].append(platform)
            columns[f"{p}_category"].append(category.value)
            columns[f"{p}_cap"].append(None if rule is None else rule.monthly_cap)
            columns[f"{p}_weight"].append(
                Decimal(0) if rule is None else rule.weight * platform_weight)
            columns[f"{p}_deduction"].append(rules.deduction_weight * platform_weight)
    return columns


def _months(versions: Sequence[_Version]) -> dict[str, list[Any]]:
    every = sorted({month for version in versions for month in version.months})
    columns: dict[str, list[Any]] = {"months": every}
    for version in versions:
        index = {month: position for position, month in enumerate(version.months)}
        columns[f"{version.prefix}_in"] = [month in index for month in every]
        columns[f"{version.prefix}_slot"] = [index.get(month, -1) // MASK_BITS
                                             if month in index else -1 for month in every]
        columns[f"{version.prefix}_bit"] = [1 << (index[month] % MASK_BITS)
                                            if month in index else 0 for month in every]
    return columns


def _statement(versions: Sequence[_Version], platform_count: int) -> str:
    """The SQL for the versions that have rules; every value travels as a parameter, only
    shapes (counts of masks, platforms, tiers) and tier thresholds (integers of a validated
    rule set) are written into the text."""
    per_version_weights = ", ".join(_weights_table(v.prefix) for v in versions)
    month_columns = ", ".join(
        f"CAST(:{v.prefix}_in AS boolean[]), CAST(:{v.prefix}_slot AS integer[]), "
        f"CAST(:{v.prefix}_bit AS bigint[])" for v in versions)
    month_names = ", ".join(f"{v.prefix}_in, {v.prefix}_slot, {v.prefix}_bit" for v in versions)
    aggregates: list[str] = []
    joins: list[str] = []
    for v in versions:
        p = v.prefix
        joins.append(f"LEFT JOIN {p}_weights {p}w ON {p}w.platform = c.platform "
                     f"AND {p}w.category = c.category")
        aggregates.append(
            f"SUM(CASE WHEN m.{p}_in THEN LEAST(c.awarded - c.revoked, {p}w.cap) * {p}w.weight"
            f" - c.deducted * {p}w.deduction END) AS {p}_raw")
        aggregates.append(f"SUM(CASE WHEN m.{p}_in THEN c.deductions END) AS {p}_deductions")
        aggregates.extend(
            f"BIT_OR(CASE WHEN m.{p}_slot = {slot} AND c.awarded > c.revoked THEN m.{p}_bit "
            f"END) AS {p}_mask{slot}" for slot in range(v.slots))
    aggregates.extend(
        f"SUM(CASE WHEN m.b_in THEN c.awarded - c.revoked END) FILTER "
        f"(WHERE c.platform = :platform_{index}) AS net_{index}"
        for index in range(platform_count))
    scored: list[str] = []
    for v in versions:
        p = v.prefix
        active = " + ".join(f"COALESCE(bit_count(CAST(p.{p}_mask{slot} AS bit(64))), 0)"
                            for slot in range(v.slots)) or "0"
        scored.append(f"GREATEST(0, FLOOR(COALESCE(p.{p}_raw, 0))) AS {p}_score")
        scored.append(f"({active}) AS {p}_active")
        scored.append(f"COALESCE(p.{p}_deductions, 0) AS {p}_deductions")
    nets = ", ".join(f"p.net_{index}" for index in range(platform_count))
    greatest = f"GREATEST({nets})" if platform_count else "NULL"
    home_cases = " ".join(f"WHEN p.net_{index} = {greatest} THEN CAST(:platform_{index} AS text)"
                          for index in range(platform_count))
    home = (f"CASE WHEN {greatest} > 0 THEN CASE {home_cases} END "
            "ELSE r.first_platform END") if platform_count else "r.first_platform"
    # Identifiers and shapes come from this module; every value is a bound parameter.
    return f"""
WITH {per_version_weights},
months AS (SELECT * FROM unnest(CAST(:months AS text[]), {month_columns})
           AS m(month, {month_names})),
per_resident AS (
    SELECT c.resident, {", ".join(aggregates)}
    FROM monthly_contributions c JOIN months m ON m.month = c.month
    {" ".join(joins)}
    GROUP BY c.resident),
residents AS (SELECT resident, MIN(platform) AS first_platform FROM balances GROUP BY resident),
scored AS (
    SELECT r.resident, {home} AS home, {", ".join(scored)}
    FROM residents r LEFT JOIN per_resident p ON p.resident = r.resident)
"""  # noqa: S608


def _weights_table(p: str) -> str:
    """The CTE of one version's weights; `p` is this module's own prefix."""
    return (f"{p}_weights AS (SELECT * FROM unnest(CAST(:{p}_platform AS text[]), "  # noqa: S608
            f"CAST(:{p}_category AS text[]), CAST(:{p}_cap AS bigint[]), "
            f"CAST(:{p}_weight AS numeric[]), CAST(:{p}_deduction AS numeric[])) "
            "AS w(platform, category, cap, weight, deduction))")


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
