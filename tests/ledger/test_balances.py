"""SPEC §6: balances per resident and platform, and monthly contribution in Asia/Shanghai months."""

from __future__ import annotations

from typing import Any

from ledger.bootstrap import Ledger
from ledger.domain.outcomes import Status
from ledger.domain.verification import Delivery
from tests.ledger.helpers import balance, contributions
from tests.support import RESIDENT_A, RESIDENT_B, PlatformFixture


def record(ledger: Ledger, *deliveries: Delivery) -> None:
    outcomes = ledger.ingestor.ingest(list(deliveries))
    assert [outcome.status for outcome in outcomes] == [Status.RECORDED] * len(deliveries), \
        outcomes


def award(platform: PlatformFixture, points: int, **fields: Any) -> Delivery:
    return platform.delivery(type="points.awarded", points=points, **fields)


def deduction(platform: PlatformFixture, points: int, **fields: Any) -> Delivery:
    return platform.delivery(type="points.deducted", points=points, **fields)


def revocation(platform: PlatformFixture, target: str, points: int, **fields: Any) -> Delivery:
    return platform.delivery(type="points.revoked", revokes=target, points=points, **fields)


def test_spendable_is_the_sum_of_deltas_with_each_kind_shown_apart(
        ledger: Ledger, platform: PlatformFixture) -> None:
    record(ledger,
           award(platform, 50),                      # lijiayuan-1
           award(platform, 20),                      # lijiayuan-2
           deduction(platform, 15),
           revocation(platform, "lijiayuan-2", 20))
    assert balance(ledger, RESIDENT_A, platform.code) == {
        "earned": 70, "deducted": 15, "revoked": 20, "redeemed": 0, "spendable": 35}


def test_a_deduction_may_take_spendable_below_zero(
        ledger: Ledger, platform: PlatformFixture) -> None:
    record(ledger, award(platform, 5), deduction(platform, 30))
    assert balance(ledger, RESIDENT_A, platform.code)["spendable"] == -25


def test_a_revocation_may_take_spendable_below_zero(
        ledger: Ledger, platform: PlatformFixture) -> None:
    record(ledger, award(platform, 40), deduction(platform, 30))
    record(ledger, revocation(platform, "lijiayuan-1", 40))
    assert balance(ledger, RESIDENT_A, platform.code) == {
        "earned": 40, "deducted": 30, "revoked": 40, "redeemed": 0, "spendable": -30}


def test_balances_are_kept_per_resident_and_platform(
        ledger: Ledger, platform: PlatformFixture, other_platform: PlatformFixture) -> None:
    record(ledger,
           award(platform, 10, resident=RESIDENT_A),
           award(platform, 7, resident=RESIDENT_B),
           award(other_platform, 100, resident=RESIDENT_A),
           deduction(other_platform, 3, resident=RESIDENT_B))
    assert balance(ledger, RESIDENT_A, platform.code)["spendable"] == 10
    assert balance(ledger, RESIDENT_B, platform.code)["spendable"] == 7
    assert balance(ledger, RESIDENT_A, other_platform.code)["spendable"] == 100
    assert balance(ledger, RESIDENT_B, other_platform.code) == {
        "earned": 0, "deducted": 3, "revoked": 0, "redeemed": 0, "spendable": -3}


def test_balances_add_up_across_batches(ledger: Ledger, platform: PlatformFixture) -> None:
    for _ in range(3):
        record(ledger, award(platform, 4), award(platform, 6))
    assert balance(ledger, RESIDENT_A, platform.code)["earned"] == 30


def test_rejected_and_duplicate_events_do_not_touch_balances(
        ledger: Ledger, platform: PlatformFixture) -> None:
    first = award(platform, 10)
    record(ledger, first)
    outcomes = ledger.ingestor.ingest([
        first,
        award(platform, 99, seq=1),                       # id_conflict
        revocation(platform, "lijiayuan-1", 11),          # revocation_mismatch
        deduction(platform, 5, points_bonus=1),           # schema_invalid
    ])
    assert [outcome.status for outcome in outcomes] == [Status.DUPLICATE] + [Status.REJECTED] * 3
    assert balance(ledger, RESIDENT_A, platform.code) == {
        "earned": 10, "deducted": 0, "revoked": 0, "redeemed": 0, "spendable": 10}


def test_contribution_month_is_the_shanghai_calendar_month(
        ledger: Ledger, platform: PlatformFixture) -> None:
    record(ledger,
           award(platform, 10, occurred_at="2026-10-31T17:00:00Z"),       # 01:00 on 1 Nov
           award(platform, 3, occurred_at="2026-10-31T15:59:59Z"),        # 23:59 on 31 Oct
           award(platform, 5, occurred_at="2026-10-31T23:30:00-05:00"))   # 12:30 on 1 Nov
    by_month = {key[3]: value["awarded"] for key, value in contributions(ledger).items()}
    assert by_month == {"2026-10": 3, "2026-11": 15}


def test_contribution_is_kept_per_category_with_deductions_apart(
        ledger: Ledger, platform: PlatformFixture) -> None:
    record(ledger,
           award(platform, 10, category="garbage_sorting"),
           award(platform, 4, category="garbage_sorting"),
           award(platform, 8, category="volunteering"),
           deduction(platform, 6, category="garbage_sorting"),
           deduction(platform, 1, category="garbage_sorting"))
    key = (RESIDENT_A, platform.code)
    assert contributions(ledger) == {
        (*key, "garbage_sorting", "2026-11"):
            {"awarded": 14, "revoked": 0, "deducted": 7, "deductions": 2},
        (*key, "volunteering", "2026-11"):
            {"awarded": 8, "revoked": 0, "deducted": 0, "deductions": 0},
    }


def test_a_deduction_counts_in_its_own_month(ledger: Ledger, platform: PlatformFixture) -> None:
    record(ledger,
           award(platform, 10, occurred_at="2026-09-10T10:00:00+08:00"),
           deduction(platform, 4, occurred_at="2026-11-02T10:00:00+08:00"))
    key = (RESIDENT_A, platform.code, "garbage_sorting")
    assert contributions(ledger) == {
        (*key, "2026-09"): {"awarded": 10, "revoked": 0, "deducted": 0, "deductions": 0},
        (*key, "2026-11"): {"awarded": 0, "revoked": 0, "deducted": 4, "deductions": 1},
    }


def test_a_later_revocation_counts_against_the_awards_month_and_category(
        ledger: Ledger, platform: PlatformFixture) -> None:
    record(ledger, award(platform, 25, category="safety_patrol",
                         occurred_at="2026-10-31T17:00:00Z"))          # Shanghai November
    record(ledger, revocation(platform, "lijiayuan-1", 25, category="safety_patrol",
                              occurred_at="2026-11-21T10:00:00Z"),
           award(platform, 9, category="safety_patrol", occurred_at="2026-11-21T10:00:00Z"))
    assert contributions(ledger) == {
        (RESIDENT_A, platform.code, "safety_patrol", "2026-11"):
            {"awarded": 34, "revoked": 25, "deducted": 0, "deductions": 0},
    }
    record(ledger, award(platform, 12, category="mutual_aid",
                         occurred_at="2026-08-15T09:00:00+08:00"))     # lijiayuan-4
    record(ledger, revocation(platform, "lijiayuan-4", 12, category="mutual_aid",
                              occurred_at="2026-11-20T09:00:00+08:00"))
    assert contributions(ledger)[(RESIDENT_A, platform.code, "mutual_aid", "2026-08")] == {
        "awarded": 12, "revoked": 12, "deducted": 0, "deductions": 0}
    assert (RESIDENT_A, platform.code, "mutual_aid", "2026-11") not in contributions(ledger)


def test_a_revocation_in_the_same_batch_as_its_award_counts_against_the_award(
        ledger: Ledger, platform: PlatformFixture) -> None:
    record(ledger,
           award(platform, 6, category="honors", occurred_at="2026-07-01T08:00:00+08:00"),
           revocation(platform, "lijiayuan-1", 6, category="honors"))
    assert contributions(ledger) == {
        (RESIDENT_A, platform.code, "honors", "2026-07"):
            {"awarded": 6, "revoked": 6, "deducted": 0, "deductions": 0},
    }
