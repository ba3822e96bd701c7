"""SPEC §6: appenders running at once still give one gap-free, intact chain (the consumer may run
as several processes; the embedded API serves requests on several threads)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from ledger.bootstrap import Ledger
from ledger.domain.outcomes import Status
from ledger.service.chain_audit import audit_chain
from tests.ledger.helpers import balance, entries, seq_tracking
from tests.support import RESIDENT_A, PlatformFixture, register_platform

BATCHES_PER_APPENDER = 6
EVENTS_PER_BATCH = 5


def test_concurrent_batches_form_one_gap_free_chain(ledger: Ledger) -> None:
    platforms = [register_platform(ledger.sessions, code)
                 for code in ("lijiayuan", "nanyang_young", "pingan_gongfu")]

    def append(platform: PlatformFixture) -> list[Status]:
        statuses: list[Status] = []
        for _ in range(BATCHES_PER_APPENDER):
            batch = [platform.delivery(points=2) for _ in range(EVENTS_PER_BATCH)]
            statuses += [outcome.status for outcome in ledger.ingestor.ingest(batch)]
        return statuses

    with ThreadPoolExecutor(max_workers=len(platforms)) as pool:
        results = list(pool.map(append, platforms))

    per_platform = BATCHES_PER_APPENDER * EVENTS_PER_BATCH
    assert results == [[Status.RECORDED] * per_platform] * len(platforms)
    total = per_platform * len(platforms)
    assert [row.seq for row in entries(ledger)] == list(range(1, total + 1))
    with ledger.sessions() as session:
        report = audit_chain(session)
    assert report.intact and report.entries == total
    for platform in platforms:
        assert balance(ledger, RESIDENT_A, platform.code)["spendable"] == 2 * per_platform
        assert seq_tracking(ledger, platform.code) == (per_platform, [])
