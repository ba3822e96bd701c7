"""A monthly contribution cell never revokes more than it awarded, and the database says so.

How the writer keeps it is said in ledger/service/projections.py; that the ledger's rules allow
nothing else is a property in test_deciding.py; here the CHECK itself, on each database.
"""

from __future__ import annotations

import pytest
from sqlalchemy import insert, update
from sqlalchemy.exc import IntegrityError

from ledger.bootstrap import Ledger
from ledger.infra.db.models import Balance, MonthlyContribution
from tests.support import RESIDENT_A, PlatformFixture

# Both databases name the constraint they refuse by: the name the models and migration 0008 give.
CONSTRAINT = "ck_monthly_contributions_revoked_within_awarded"
CELL = {"resident": RESIDENT_A, "category": "garbage_sorting", "month": "2026-11",
        "deducted": 0, "deductions": 0}


def _add_cell(ledger: Ledger, platform: PlatformFixture, awarded: int, revoked: int) -> None:
    with ledger.sessions.begin() as session:
        session.execute(insert(MonthlyContribution).values(
            platform=platform.code, awarded=awarded, revoked=revoked, **CELL))


def test_a_cell_revoking_more_than_it_awarded_is_refused(
        ledger: Ledger, platform: PlatformFixture) -> None:
    with pytest.raises(IntegrityError, match=CONSTRAINT):
        _add_cell(ledger, platform, awarded=10, revoked=11)


def test_a_cell_revoking_all_it_awarded_is_accepted_and_no_more_can_be_revoked(
        ledger: Ledger, platform: PlatformFixture) -> None:
    _add_cell(ledger, platform, awarded=10, revoked=10)
    with pytest.raises(IntegrityError, match=CONSTRAINT), \
            ledger.sessions.begin() as session:
        session.execute(update(MonthlyContribution).where(
            MonthlyContribution.platform == platform.code)
            .values(revoked=MonthlyContribution.revoked + 1))


def test_a_revocation_of_an_award_of_an_earlier_batch_and_month_is_added_to_its_cell(
        ledger: Ledger, platform: PlatformFixture) -> None:
    """The batch revokes more in the cell than it awards there: written as an addition to the
    cell the award made, never as a row of its own (which the CHECK would refuse)."""
    award = platform.delivery(points=30, occurred_at="2026-10-01T09:00:00+08:00")
    assert ledger.ingestor.ingest([award])[0].seq == 1
    later = [platform.delivery(points=5, occurred_at="2026-10-02T09:00:00+08:00"),
             platform.delivery(type="points.revoked", revokes="lijiayuan-1", points=30,
                               occurred_at="2026-11-20T09:00:00+08:00")]
    assert [outcome.seq for outcome in ledger.ingestor.ingest(later)] == [2, 3]
    with ledger.sessions() as session:
        cell = session.get(MonthlyContribution,
                           (RESIDENT_A, platform.code, "garbage_sorting", "2026-10"))
        assert cell is not None and (cell.awarded, cell.revoked) == (35, 30)
        assert session.get(MonthlyContribution,
                           (RESIDENT_A, platform.code, "garbage_sorting", "2026-11")) is None
        holder = session.get(Balance, (RESIDENT_A, platform.code))
        assert holder is not None and holder.spendable == 5
