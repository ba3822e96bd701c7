"""`pointsledger bench simulate` (SPEC §11): a rule-set simulation over a county of residents,
against PostgreSQL, and its yardstick measured in the same run.

Set-up (not timed): a scratch database on the configured server, filled by
`ledger.bench.population` with monthly contribution and balances (a simulation reads no ledger
entries); two risk officers put the default rule set in force through the lifecycle (its own
simulation, against no version, is part of the set-up), and the author drafts a change.

Then, alternately (A B, then B A, …, so that a drift of the machine hits both alike):
- the simulation: `simulations.measure` of the change against the active default in a new
  session: snapshot, versions, ledger head and the one statement of `population_impact`, down
  to the figures. Recording them (what `simulate` adds: one row and its audit event) is not timed;
- the yardstick: one GROUP BY resident sum over the same monthly table, aggregated again on the
  server so that one row comes back, as the simulation's own statement does.
The best round of each counts: noise only ever slows a phase down. The process's peak resident
memory (VmHWM) is reported next to its memory at the start (the interpreter and its imports):
nothing per resident comes back to Python, and the fill holds one write's worth of rows at a
time, so the two stay close whatever the county's size.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text

from ledger.bench import memory, population
from ledger.bench.ingest import BenchFailed
from ledger.bootstrap import Ledger
from ledger.service.rules.default import DEFAULT_RULESET
from ledger.service.rules.simulations import measure
from ledger.settings import Settings

TARGET_RATIO = 3.0
RESIDENTS_DEFAULT = 300_000
ROUNDS_DEFAULT = 3
SIMULATION = "simulation"
YARDSTICK = "yardstick"
YARDSTICK_STATEMENT = text(
    "SELECT count(*), sum(total) FROM (SELECT resident, sum(awarded - revoked) AS total "
    "FROM monthly_contributions GROUP BY resident) AS per_resident")


@dataclass(frozen=True)
class SimulateBenchResult:
    filled: population.Filled
    simulation_seconds: tuple[float, ...]
    yardstick_seconds: tuple[float, ...]
    figures: dict[str, Any]
    start_rss_mb: float
    peak_rss_mb: float

    def document(self) -> dict[str, Any]:
        best_simulation = min(self.simulation_seconds)
        best_yardstick = min(self.yardstick_seconds)
        return {
            "bench": "simulate",
            "residents": self.filled.residents,
            "monthly_rows": self.filled.monthly_rows,
            "rounds": len(self.simulation_seconds),
            "timed": "ledger.service.rules.simulations.measure",
            "simulation_s": round(best_simulation, 6),
            "yardstick_s": round(best_yardstick, 6),
            "ratio": round(best_simulation / best_yardstick, 3),
            "target_ratio": TARGET_RATIO,
            "simulation_rounds_s": [round(seconds, 6) for seconds in self.simulation_seconds],
            "yardstick_rounds_s": [round(seconds, 6) for seconds in self.yardstick_seconds],
            "start_rss_mb": round(self.start_rss_mb, 1),
            "peak_rss_mb": round(self.peak_rss_mb, 1),
            "simulated": {key: self.figures[key] for key in (
                "residents", "gaining", "losing", "unchanged", "exposure_before_cny",
                "exposure_after_cny")},
            "fill_s": round(self.filled.seconds, 1),
        }


def run_simulate_bench(settings: Settings, residents: int, rounds: int) -> SimulateBenchResult:
    start_rss_mb = memory.rss_mb()  # the interpreter and its imports
    with population.scratch_county(settings, "simulate", residents, with_entries=False) as (
            ledger, _scratch_url, filled):
        candidate = population.draft(ledger, candidate_document(),
                                     "care weighs more, entry tier from 50 points, "
                                     "no deduction above it")
        timings = [_round(ledger, candidate, residents, simulation_first=number % 2 == 0)
                   for number in range(rounds)]
    figures = timings[-1][2]
    return SimulateBenchResult(filled, tuple(timing[0] for timing in timings),
                               tuple(timing[1] for timing in timings), figures, start_rss_mb,
                               memory.peak_rss_mb())


def candidate_document() -> dict[str, Any]:
    """A change a risk officer might propose: it moves residents both ways."""
    document = copy.deepcopy(DEFAULT_RULESET)
    document["name"] = "Contribution credit policy (care weighs more, entry tier from 50)"
    document["categories"]["volunteering"]["weight"] = "2.0"
    document["categories"]["mutual_aid"]["weight"] = "2.0"
    document["tiers"][2]["when"]["max_deductions"] = 0
    document["tiers"][3]["when"]["min_score"] = 50
    return document


def _round(ledger: Ledger, candidate: int, residents: int, simulation_first: bool
           ) -> tuple[float, float, dict[str, Any]]:
    seconds: dict[str, float] = {}
    figures: dict[str, Any] = {}
    for phase in (SIMULATION, YARDSTICK) if simulation_first else (YARDSTICK, SIMULATION):
        if phase == SIMULATION:
            seconds[phase], figures = _time_simulation(ledger, candidate)
            if figures["residents"] != residents:
                raise BenchFailed(f"the simulation counted {figures['residents']} residents, "
                                  f"not {residents}")
        else:
            seconds[phase] = _time_yardstick(ledger, residents)
    return seconds[SIMULATION], seconds[YARDSTICK], figures


def _time_simulation(ledger: Ledger, candidate: int) -> tuple[float, dict[str, Any]]:
    with ledger.sessions() as session:
        started = time.perf_counter()
        measured = measure(session, candidate, ledger.clock())
        return time.perf_counter() - started, measured.figures


def _time_yardstick(ledger: Ledger, residents: int) -> float:
    with ledger.sessions() as session:
        started = time.perf_counter()
        counted, _ = session.execute(YARDSTICK_STATEMENT).one()
        seconds = time.perf_counter() - started
    if counted != residents:
        raise BenchFailed(f"the yardstick counted {counted} residents, not {residents}")
    return seconds
