"""One resident's monthly contribution as of a moment and a ledger seq (SPEC §6, §8).

The monthly table holds every entry recorded so far. A decision counts only entries with
`occurred_at` ≤ as_of, and a replay only entries up to the decision's ledger seq; the few
entries that do not count (recorded later, or dated after as_of) are read from the resident's
own entries and taken back out of the month where the projection put them. A revocation is
in its award's month and category; it does not count when it was recorded later or is dated
after as_of, nor when its award does not count.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, aliased

from ledger.contract.categories import EntryKind
from ledger.domain.scoring import MonthRow
from ledger.infra.db.models import LedgerEntryRow, MonthlyContribution
from ledger.service.projections import shanghai_month

CONTRIBUTING_KINDS = (EntryKind.AWARDED.value, EntryKind.DEDUCTED.value,
                      EntryKind.REVOKED.value)

_Key = tuple[str, str, str]  # platform, category, month


def month_rows(session: Session, resident: str, months: Sequence[str], as_of: datetime,
               through_seq: int) -> list[MonthRow]:
    """The resident's rows for `months`, counting entries up to `through_seq` and `as_of`."""
    totals: dict[_Key, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for row in session.scalars(select(MonthlyContribution).where(
            MonthlyContribution.resident == resident,
            MonthlyContribution.month.in_(list(months)))):
        totals[(row.platform, row.category, row.month)] = [
            row.awarded, row.revoked, row.deducted, row.deductions]
    window = set(months)
    for key, change in _uncounted(session, resident, as_of, through_seq):
        if key[2] in window:
            values = totals[key]
            for index, amount in enumerate(change):
                values[index] -= amount
    return [MonthRow(platform, category, month, *values)
            for (platform, category, month), values in sorted(totals.items())]


def _uncounted(session: Session, resident: str, as_of: datetime,
               through_seq: int) -> list[tuple[_Key, tuple[int, int, int, int]]]:
    """Each entry in the monthly table that does not count, with what it added there."""
    entry = LedgerEntryRow
    award = aliased(LedgerEntryRow)
    late = or_(entry.seq > through_seq, entry.occurred_at > as_of)
    rows = session.execute(
        select(entry.kind, entry.platform, entry.category, entry.points, entry.occurred_at,
               award.occurred_at.label("award_occurred_at"))
        .outerjoin(award, and_(award.platform == entry.platform,
                               award.event_id == entry.revokes))
        .where(entry.resident == resident, entry.kind.in_(CONTRIBUTING_KINDS),
               or_(late, and_(entry.kind == EntryKind.REVOKED.value,
                              award.occurred_at > as_of)))
    ).all()
    uncounted: list[tuple[_Key, tuple[int, int, int, int]]] = []
    for row in rows:
        assert row.category is not None
        magnitude = abs(row.points)
        if row.kind == EntryKind.AWARDED.value:
            change = (magnitude, 0, 0, 0)
            month = shanghai_month(row.occurred_at)
        elif row.kind == EntryKind.DEDUCTED.value:
            change = (0, 0, magnitude, 1)
            month = shanghai_month(row.occurred_at)
        else:
            assert row.award_occurred_at is not None
            change = (0, magnitude, 0, 0)
            month = shanghai_month(row.award_occurred_at)
        uncounted.append(((row.platform, row.category, month), change))
    return uncounted
