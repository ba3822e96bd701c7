"""The bench's county fill (minutes for a real county) tells its progress in resident-months."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from ledger.bench import population
from ledger.bench.county import history
from ledger.bootstrap import build
from ledger.runtime.progress import ProgressCallback
from tests.conftest import make_settings

pytestmark = [pytest.mark.postgres]

RESIDENTS = 250


def test_the_fill_reports_every_resident_month_in_order(
        postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    told: list[tuple[int, int]] = []

    @contextmanager
    def recorded(description: str) -> Iterator[ProgressCallback]:
        yield lambda done, total: told.append((done, total))

    monkeypatch.setattr(population, "progress_bar", recorded)
    monkeypatch.setattr(population, "RESIDENTS_PER_WRITE", 100)  # three writes a month
    ledger = build(make_settings(postgres_url, tmp_path=tmp_path))
    try:
        population.fill(ledger, postgres_url, RESIDENTS, with_entries=False)
        resident_months = len(history(ledger.clock())) * RESIDENTS
    finally:
        ledger.close()

    assert told[-1] == (resident_months, resident_months)
    assert {total for _, total in told} == {resident_months}
    done = [done for done, _ in told]
    assert done == sorted(done) and len(set(done)) == len(done)
    assert told[:3] == [(100, resident_months), (200, resident_months), (250, resident_months)]
