"""The auditor's entry lists filtered by the day entries were recorded: exactly the entries of the
range, in order, however the range is turned into bounds on seq (ledger_read._within_dates)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ledger.bootstrap import Ledger
from ledger.infra.db.models import LedgerEntryRow
from ledger.service.ingest import Ingestor
from ledger.service.ledger_read import EntryFilter, entries_page, platform_events_page
from ledger.service.paging import Keyset
from tests.support import PlatformFixture, register_platform

DAY = timedelta(days=1)


class MovableClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def record_on_days(ledger: Ledger, platforms: list[PlatformFixture],
                   days: list[datetime]) -> dict[datetime, list[int]]:
    """One event of each platform recorded on each day, in the order of `days`; the seqs
    recorded on each day."""
    clock = MovableClock(days[0])
    ingestor = Ingestor(ledger.sessions, ledger.settings.clock_skew_s,
                        ledger.settings.retired_key_grace_s, clock)
    recorded: dict[datetime, list[int]] = {}
    for day in days:
        clock.now = day
        for platform in platforms:
            (outcome,) = ingestor.ingest([platform.delivery(timestamp=int(day.timestamp()))])
            assert outcome.seq is not None, outcome.detail
            recorded.setdefault(day, []).append(outcome.seq)
    return recorded


def seqs(rows: list[LedgerEntryRow]) -> list[int]:
    return [row.seq for row in rows]


def test_a_closed_date_range_lists_exactly_the_entries_recorded_within_it(
        ledger: Ledger, platform: PlatformFixture) -> None:
    other = register_platform(ledger.sessions, "nanyang", "南阳young", "南阳街道")
    start = datetime.now(UTC).replace(microsecond=0) + DAY
    # Recorded out of day order (a clock put back): bounds on seq must not lose or add any.
    days = [start, start + 2 * DAY, start + DAY, start + 3 * DAY]
    recorded = record_on_days(ledger, [platform, other], days)
    within = EntryFilter(recorded_from=start + DAY, recorded_before=start + 3 * DAY)

    with ledger.sessions() as session:
        oldest_first = entries_page(session, Keyset(100), within)
        newest_first = entries_page(session, Keyset(100, newest_first=True), within)
        one_platform = platform_events_page(session, other.code, Keyset(100),
                                            within)
        none_then = entries_page(session, Keyset(100), EntryFilter(
            recorded_from=start - 5 * DAY, recorded_before=start - 4 * DAY))

    expected = sorted(recorded[start + DAY] + recorded[start + 2 * DAY])
    assert seqs(oldest_first.items) == expected
    assert seqs(newest_first.items) == expected[::-1]
    assert [row.platform for row in one_platform.items] == [other.code, other.code]
    assert seqs(none_then.items) == []
