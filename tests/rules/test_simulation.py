"""Simulations over every resident (SPEC §8): hand-computed figures from real entries, and the
database's one-statement computation checked against the domain model on random populations."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, insert
from sqlalchemy.orm import Session

from ledger.bootstrap import Ledger, build
from ledger.contract.categories import Category
from ledger.domain.impact import home_platform
from ledger.domain.ruleset import parse_ruleset
from ledger.domain.scoring import MonthRow, choose_terms, compute_score, window
from ledger.infra.db.models import Balance, MonthlyContribution
from ledger.service.errors import Forbidden
from ledger.service.rules.population import (
    ResidentScore,
    _impact_in_database,
    _impact_streamed,
    resident_scores,
)
from ledger.service.rules.simulations import simulate as run_simulation
from tests.conftest import make_settings
from tests.rules.support import TELLER, activate, draft, now, platforms, simulate, spec_document
from tests.rules.test_credit_terms import Feed
from tests.support import register_platform

CODES = ("lijiayuan", "nanyang_young", "wuhe_zhonglian")
RESIDENT_C = "c" * 64
RESIDENT_D = "d" * 64
RESIDENT_E = "e" * 64


@pytest.fixture
def feed(ledger: Ledger) -> Feed:
    return Feed(ledger, platforms(ledger))


def _last_month(day: int) -> str:
    """A day of last month (in every window that ends now, and never in the future)."""
    first = now().replace(day=1)
    last_month = (first - timedelta(days=1)).replace(day=day)
    return f"{last_month:%Y-%m-%d}T09:00:00+08:00"


def _population(feed: Feed) -> None:
    """Five residents; scores under the SPEC rules in brackets."""
    a, b = "a" * 64, "b" * 64
    # a: two patrols on lijiayuan, 40 × 2 + 30 = 110 → tier 1 (20 000)
    feed.send("lijiayuan", _last_month(2), 40, "safety_patrol", resident=a)
    feed.send("lijiayuan", _last_month(3), 30, resident=a)
    # b: 60 garbage on nanyang (cap 30, × 0.5 = 15) → tier 2 (0); home nanyang
    feed.send("nanyang_young", _last_month(2), 60, resident=b)
    # c: 80 on wuhe (weight 0), 10 on lijiayuan: 10 → tier 2; home wuhe (most points)
    feed.send("wuhe_zhonglian", _last_month(2), 80, resident=RESIDENT_C)
    feed.send("lijiayuan", _last_month(2), 10, resident=RESIDENT_C)
    # d: on nanyang, a patrol of 40 → 40 × 2 × 0.5 = 40, garbage 30 → 15: 55 → tier 2
    feed.send("nanyang_young", _last_month(4), 40, "safety_patrol", resident=RESIDENT_D)
    feed.send("nanyang_young", _last_month(5), 30, resident=RESIDENT_D)
    # e: only a deduction (score 0) on lijiayuan → tier 2; home lijiayuan (its only platform)
    feed.send("lijiayuan", _last_month(2), 5, kind="points.deducted", resident=RESIDENT_E)


def _figures(document: dict[str, Any]) -> dict[str, Any]:
    return {key: document[key] for key in ("residents", "gaining", "losing", "unchanged",
                                           "exposure_before_cny", "exposure_after_cny",
                                           "by_platform", "histogram")}


def test_a_first_version_is_compared_with_no_terms_at_all(ledger: Ledger, feed: Feed) -> None:
    _population(feed)
    version = draft(ledger, spec_document())

    document = simulate(ledger, version)

    assert document["status"] == "done"
    assert document["baseline_version"] is None
    assert document["ledger_seq"] == 8
    assert _figures(document) == {
        "residents": 5, "gaining": 1, "losing": 0, "unchanged": 4,
        "exposure_before_cny": 0, "exposure_after_cny": 20000,
        "by_platform": {
            "lijiayuan": {"residents": 2, "gaining": 1, "losing": 0,
                          "exposure_before_cny": 0, "exposure_after_cny": 20000},
            "nanyang_young": {"residents": 2, "gaining": 0, "losing": 0,
                              "exposure_before_cny": 0, "exposure_after_cny": 0},
            "wuhe_zhonglian": {"residents": 1, "gaining": 0, "losing": 0,
                               "exposure_before_cny": 0, "exposure_after_cny": 0}},
        "histogram": [{"from_cny": 0, "to_cny": 0, "residents": 4},
                      {"from_cny": 20000, "to_cny": 21000, "residents": 1}],
    }


def test_a_change_is_measured_against_the_active_version(ledger: Ledger, feed: Feed) -> None:
    _population(feed)
    active = activate(ledger, spec_document())
    # Tier 1 from 50 points instead of 100, and 30 000 instead of 20 000; tier 0 as before.
    changed = copy.deepcopy(spec_document())
    changed["tiers"][1] = {"when": {"min_score": 50}, "limit_uplift_cny": 30000,
                           "rate_discount_bp": 5}
    version = draft(ledger, changed)

    document = simulate(ledger, version)

    # a: 20 000 → 30 000; d (55): 0 → 30 000; b (15), c (10), e (0) unchanged.
    assert document["baseline_version"] == active
    assert _figures(document) == {
        "residents": 5, "gaining": 2, "losing": 0, "unchanged": 3,
        "exposure_before_cny": 20000, "exposure_after_cny": 60000,
        "by_platform": {
            "lijiayuan": {"residents": 2, "gaining": 1, "losing": 0,
                          "exposure_before_cny": 20000, "exposure_after_cny": 30000},
            "nanyang_young": {"residents": 2, "gaining": 1, "losing": 0,
                              "exposure_before_cny": 0, "exposure_after_cny": 30000},
            "wuhe_zhonglian": {"residents": 1, "gaining": 0, "losing": 0,
                               "exposure_before_cny": 0, "exposure_after_cny": 0}},
        "histogram": [{"from_cny": 0, "to_cny": 0, "residents": 3},
                      {"from_cny": 10000, "to_cny": 12000, "residents": 1},
                      {"from_cny": 30000, "to_cny": 32000, "residents": 1}],
    }


def test_a_stricter_version_shows_who_loses(ledger: Ledger, feed: Feed) -> None:
    _population(feed)
    activate(ledger, spec_document())
    stricter = copy.deepcopy(spec_document())
    stricter["tiers"][1]["when"]["min_score"] = 200

    document = simulate(ledger, draft(ledger, stricter))

    assert (document["gaining"], document["losing"], document["unchanged"]) == (0, 1, 4)
    assert document["exposure_after_cny"] == 0
    assert document["histogram"][0] == {"from_cny": -20000, "to_cny": -19000, "residents": 1}


def test_only_risk_officers_run_simulations(ledger: Ledger, feed: Feed) -> None:
    version = draft(ledger, spec_document())
    with pytest.raises(Forbidden):
        run_simulation(ledger.sessions, TELLER, version, now())


# -- the database's statement against the domain model -------------------------------------

@pytest.fixture(scope="module")
def population_database(postgres_template: str, tmp_path_factory: pytest.TempPathFactory
                        ) -> Iterator[Ledger]:
    """One PostgreSQL ledger for all examples; each example replaces the population."""
    from tests.conftest import _admin_connection, _database_url
    from tests.support import unique_name

    name = unique_name("pl_population")
    with _admin_connection() as connection:
        connection.execute(f'CREATE DATABASE "{name}" TEMPLATE "{postgres_template}"')
    directory = tmp_path_factory.mktemp("population")
    ledger = build(make_settings(_database_url(name), tmp_path=Path(directory)))
    for code in CODES:
        register_platform(ledger.sessions, code)
    yield ledger
    ledger.close()
    with _admin_connection() as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


AS_OF = datetime(2026, 11, 30, 20, 0, tzinfo=UTC)
MONTHS = window(AS_OF, 15)
WEIGHTS = st.sampled_from(["1.0", "0.5", "2"]) | st.decimals(min_value=0, max_value=5,
                                                              places=3).map(str)

SIMULATED_CATEGORIES = (Category.GARBAGE_SORTING, Category.SAFETY_PATROL)
month_rows = st.lists(st.tuples(
    st.sampled_from(["a" * 64, "b" * 64, RESIDENT_C]),
    st.sampled_from(CODES), st.sampled_from([*SIMULATED_CATEGORIES, Category.VOLUNTEERING]),
    st.sampled_from(MONTHS), st.just(0) | st.integers(1, 200),
    # how much of the award is revoked: none, half or all of it
    st.sampled_from([0, 1, 2]), st.just(0) | st.integers(1, 60), st.integers(0, 3)),
    max_size=60)


@st.composite
def documents(draw: st.DrawFn) -> dict[str, Any]:
    window_months = draw(st.integers(1, 15))
    thresholds = sorted(draw(st.lists(st.sampled_from([1, 5, 20, 50, 100, 300]) |
                                      st.integers(1, 800), min_size=1, max_size=4,
                                      unique=True)), reverse=True)
    tiers = [{"when": {"min_score": threshold,
                       **draw(st.fixed_dictionaries({}, optional={
                           "min_active_months": st.integers(0, window_months),
                           "max_deductions": st.integers(0, 3)}))},
              "limit_uplift_cny": draw(st.integers(0, 300000)),
              "rate_discount_bp": draw(st.integers(0, 80))} for threshold in thresholds]
    tiers.append({"when": {}, "limit_uplift_cny": draw(st.integers(0, 5000)),
                  "rate_discount_bp": 0})
    return {
        "name": "random",
        "window_months": window_months,
        # Every platform but one and every category weigh (one that does not weighs 0).
        "platforms": {code: {"weight": draw(WEIGHTS)} for code in CODES[:2]},
        "categories": {category.value: {"weight": draw(WEIGHTS),
                                        **draw(st.fixed_dictionaries({}, optional={
                                            "monthly_cap": st.integers(0, 100)}))}
                       for category in SIMULATED_CATEGORIES},
        "deduction_weight": draw(WEIGHTS),
        "tiers": tiers,
        "caps": {"limit_uplift_cny_max": draw(st.integers(0, 250000)),
                 "rate_discount_bp_max": draw(st.integers(0, 60))},
    }


def _replace_population(session: Session, rows: list[tuple[Any, ...]]
                        ) -> dict[str, list[MonthRow]]:
    """Each resident's month rows, as now in the database."""
    session.execute(delete(MonthlyContribution))
    session.execute(delete(Balance))
    totals: dict[tuple[str, str, str, str], list[int]] = {}
    for resident, platform, category, month, awarded, revoked_share, deducted, deductions in rows:
        # Revocations restate awards: a month's net is never negative.
        revoked = (0, awarded // 2, awarded)[revoked_share]
        values = totals.setdefault((resident, platform, category.value, month), [0, 0, 0, 0])
        for index, amount in enumerate((awarded, revoked, deducted, deductions)):
            values[index] += amount
    if totals:
        session.execute(insert(MonthlyContribution), [
            {"resident": resident, "platform": platform, "category": category, "month": month,
             "awarded": values[0], "revoked": values[1], "deducted": values[2],
             "deductions": values[3]}
            for (resident, platform, category, month), values in totals.items()])
        holders = {(resident, platform) for resident, platform, _, _ in totals}
        session.execute(insert(Balance), [
            {"resident": resident, "platform": platform, "earned": 0, "deducted": 0,
             "revoked": 0, "redeemed": 0, "spendable": 0} for resident, platform in holders])
    by_resident: dict[str, list[MonthRow]] = {}
    for (resident, platform, category, month), values in totals.items():
        by_resident.setdefault(resident, []).append(
            MonthRow(platform, category, month, *values))
    return by_resident


@pytest.mark.postgres
@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(rows=month_rows, before=st.none() | documents(), after=documents())
def test_the_database_statement_agrees_with_the_domain_model(
        population_database: Ledger, rows: list[tuple[Any, ...]],
        before: dict[str, Any] | None, after: dict[str, Any]) -> None:
    rules_before = None if before is None else parse_ruleset(before, CODES)
    rules_after = parse_ruleset(after, CODES)
    with population_database.sessions.begin() as session:
        _replace_population(session, rows)
    with population_database.sessions() as session:
        in_database = _impact_in_database(session, rules_before, rules_after, AS_OF)
        streamed = _impact_streamed(session, rules_before, rules_after, AS_OF)
    assert in_database.figures() == streamed.figures()
    assert in_database.uplift_changes == streamed.uplift_changes


@pytest.mark.postgres
@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(rows=month_rows, document=documents())
def test_the_database_scores_each_resident_as_the_domain_model_does(
        population_database: Ledger, rows: list[tuple[Any, ...]],
        document: dict[str, Any]) -> None:
    rules = parse_ruleset(document, CODES)
    with population_database.sessions.begin() as session:
        by_resident = _replace_population(session, rows)
    with population_database.sessions() as session:
        computed = resident_scores(session, rules, AS_OF)

    months = set(window(AS_OF, rules.window_months))
    expected = {}
    for resident, resident_rows in by_resident.items():
        score = compute_score(rules, resident_rows, AS_OF)
        home = home_platform({row.platform for row in resident_rows}, resident_rows, months)
        expected[resident] = ResidentScore(home, score.score,
                                           score.active_months, score.deductions,
                                           choose_terms(rules, score).tier)
    assert computed == expected


@pytest.mark.postgres
@pytest.mark.parametrize(("weight", "deducted"), [("999.999999", 0), ("0.001", 10**17)])
def test_weights_too_fine_for_whole_number_products_are_summed_in_numerics(
        population_database: Ledger, weight: str, deducted: int) -> None:
    """999.999999² has 12 places: numerics straight away. 0.001 scales to 1000, but 10^17
    deducted points overflow that bigint product: the statement runs again in numerics."""
    document = {"name": "fine weights", "window_months": 12,
                "platforms": {"lijiayuan": {"weight": weight}},
                "categories": {"garbage_sorting": {"weight": weight}}, "deduction_weight": "1",
                "tiers": [{"when": {"min_score": 1}, "limit_uplift_cny": 5,
                           "rate_discount_bp": 1},
                          {"when": {}, "limit_uplift_cny": 0, "rate_discount_bp": 0}],
                "caps": {"limit_uplift_cny_max": 10, "rate_discount_bp_max": 5}}
    rules = parse_ruleset(document, CODES)
    with population_database.sessions.begin() as session:
        _replace_population(session, [
            ("a" * 64, "lijiayuan", Category.GARBAGE_SORTING, MONTHS[-2], 5, 0, deducted, 1),
            ("b" * 64, "lijiayuan", Category.GARBAGE_SORTING, MONTHS[-2], 2_000_000, 0, 0, 0)])
    with population_database.sessions() as session:
        in_database = _impact_in_database(session, None, rules, AS_OF)
        streamed = _impact_streamed(session, None, rules, AS_OF)
    assert in_database.figures() == streamed.figures()
