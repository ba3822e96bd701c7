"""`pointsledger bench simulate` prints the simulation's and the yardstick's seconds, their ratio
and its peak memory, and drops its scratch database. (A benchmark, not a timed test: no
assertion on speed.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.rules.test_bench_terms import bench, document_of, exists, record_scratch_names

pytestmark = [pytest.mark.postgres]

RESIDENTS = 500
ROUNDS = 2


@pytest.fixture
def scratch_names(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    return record_scratch_names(monkeypatch)


def test_bench_simulate_prints_both_times_their_ratio_and_its_memory_then_drops_its_database(
        tmp_path: Path, scratch_names: list[str]) -> None:
    document = document_of(bench(tmp_path, "simulate", "--residents", str(RESIDENTS),
                                 "--rounds", str(ROUNDS)))

    assert document["bench"] == "simulate"
    assert document["residents"] == RESIDENTS
    assert document["monthly_rows"] > RESIDENTS
    assert document["timed"] == "ledger.service.rules.simulations.measure"
    assert document["rounds"] == ROUNDS
    assert len(document["simulation_rounds_s"]) == len(document["yardstick_rounds_s"]) == ROUNDS
    assert document["simulation_s"] == min(document["simulation_rounds_s"])
    assert document["yardstick_s"] == min(document["yardstick_rounds_s"])
    assert document["ratio"] == pytest.approx(
        document["simulation_s"] / document["yardstick_s"], rel=0.01)
    assert document["target_ratio"] == 3.0
    assert 0 < document["start_rss_mb"] <= document["peak_rss_mb"]
    simulated = document["simulated"]
    assert simulated["residents"] == RESIDENTS
    assert simulated["gaining"] + simulated["losing"] + simulated["unchanged"] == RESIDENTS
    assert len(scratch_names) == 1
    assert not exists(scratch_names[0])


def test_bench_simulate_refuses_sqlite(tmp_path: Path) -> None:
    result = bench(tmp_path, "simulate", "--residents", "10",
                   database_url=f"sqlite:///{tmp_path / 'ledger.sqlite3'}")

    assert result.exit_code == 2
    assert "bench simulate needs PostgreSQL" in result.output
    assert not (tmp_path / "ledger.sqlite3").exists()
