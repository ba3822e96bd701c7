"""`pointsledger bench terms` prints its figures and drops its scratch database; the county it
fills agrees with itself (entries, monthly rows, balances) and with the simulation's arithmetic.
(A benchmark, not a timed test: no assertion on speed.)"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from ledger.bench import population
from ledger.bench.county import resident as county_resident
from ledger.bench.scratch_database import scratch_database
from ledger.bench.terms import WARMUP_REQUESTS
from ledger.bootstrap import Ledger, build
from ledger.cli.main import cli
from ledger.contract.categories import EntryKind
from ledger.contract.merkle import root_from_leaf_hashes, root_from_stored
from ledger.contract.tiles import TILE_WIDTH_HASHES
from ledger.infra.db.models import LedgerEntryRow
from ledger.infra.db.tree_store import TileStore
from ledger.service.own_entries import append_own_entry, lock_ledger
from ledger.service.rules import terms
from ledger.service.rules.population import resident_scores
from ledger.service.rules.versions import load_versions
from tests.conftest import _admin_connection, make_settings
from tests.rules.support import now
from tests.support import POSTGRES_ADMIN_URL, TEST_PEPPER

pytestmark = [pytest.mark.postgres]

RESIDENTS = 300
REQUESTS = 40


def bench(tmp_path: Path, *arguments: str, database_url: str = POSTGRES_ADMIN_URL) -> Result:
    environment = {"POINTSLEDGER_DATABASE_URL": database_url,
                   "POINTSLEDGER_RESIDENT_PEPPER": TEST_PEPPER,
                   "POINTSLEDGER_AMQP_URL": "",
                   "POINTSLEDGER_LEDGER_KEY_FILE": str(tmp_path / "ledger.key")}
    return CliRunner().invoke(cli, ["bench", *arguments], env=environment)


def document_of(result: Result) -> dict[str, Any]:
    assert result.exit_code == 0, result.output
    document: dict[str, Any] = json.loads(result.stdout)
    return document


@pytest.fixture
def scratch_names(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    return record_scratch_names(monkeypatch)


def record_scratch_names(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the scratch databases the benches create (they run in this process)."""
    names: list[str] = []

    @contextmanager
    def recorded(database_url: str) -> Iterator[str]:
        with scratch_database(database_url) as scratch_url:
            names.append(str(make_url(scratch_url).database))
            yield scratch_url

    # Both benches get their scratch county from population.scratch_county.
    monkeypatch.setattr(population, "scratch_database", recorded)
    return names


def exists(database: str) -> bool:
    with _admin_connection() as connection:
        return connection.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                                  (database,)).fetchone() is not None


def test_bench_terms_prints_answers_per_second_latencies_and_decisions_then_drops_its_database(
        tmp_path: Path, scratch_names: list[str]) -> None:
    document = document_of(bench(tmp_path, "terms", "--residents", str(RESIDENTS),
                                 "--requests", str(REQUESTS)))

    assert document["bench"] == "terms"
    assert document["residents"] == RESIDENTS
    assert document["requests"] == REQUESTS
    assert document["threads"] == 1
    assert document["monthly_rows"] > RESIDENTS
    assert document["ledger_entries"] > document["monthly_rows"]
    assert document["decisions_written"] == WARMUP_REQUESTS + REQUESTS
    assert sum(document["tiers_answered"].values()) == REQUESTS
    assert 0 < document["p50_ms"] <= document["p99_ms"] <= document["max_ms"]
    assert document["answers_per_s"] == pytest.approx(REQUESTS / document["seconds"], rel=0.01)
    assert document["ratio"] == pytest.approx(
        document["answers_per_s"] / document["yardstick_per_s"], abs=0.001)
    assert len(scratch_names) == 1
    assert not exists(scratch_names[0])


def test_bench_terms_refuses_sqlite(tmp_path: Path) -> None:
    result = bench(tmp_path, "terms", "--residents", "10",
                   database_url=f"sqlite:///{tmp_path / 'ledger.sqlite3'}")

    assert result.exit_code == 2
    assert "bench terms needs PostgreSQL" in result.output
    assert not (tmp_path / "ledger.sqlite3").exists()


@pytest.fixture
def county(postgres_url: str, tmp_path: Path) -> Iterator[Ledger]:
    """A small county as the bench fills it, with the default rule set in force."""
    ledger = build(make_settings(postgres_url, tmp_path=tmp_path))
    population.fill(ledger, postgres_url, RESIDENTS, with_entries=True)
    population.add_officers(ledger)
    population.put_default_in_force(ledger)
    yield ledger
    ledger.close()


MONTHLY_ROWS_FROM_ENTRIES = """
SELECT e.resident, e.platform, e.category,
       to_char(COALESCE(award.occurred_at, e.occurred_at) AT TIME ZONE 'Asia/Shanghai',
               'YYYY-MM') AS month,
       sum(CASE WHEN e.kind = 'points.awarded' THEN e.points ELSE 0 END),
       sum(CASE WHEN e.kind = 'points.revoked' THEN -e.points ELSE 0 END),
       sum(CASE WHEN e.kind = 'points.deducted' THEN -e.points ELSE 0 END),
       count(*) FILTER (WHERE e.kind = 'points.deducted')
FROM ledger_entries e
LEFT JOIN ledger_entries award ON award.platform = e.platform AND award.event_id = e.revokes
GROUP BY 1, 2, 3, 4"""
MONTHLY_ROWS = """SELECT resident, platform, category, month, awarded, revoked, deducted,
                         deductions FROM monthly_contributions"""
BALANCES_FROM_MONTHLY_ROWS = """
SELECT resident, platform, sum(awarded), sum(deducted), sum(revoked), 0,
       sum(awarded - revoked - deducted) FROM monthly_contributions GROUP BY 1, 2"""
BALANCES = "SELECT resident, platform, earned, deducted, revoked, redeemed, spendable FROM balances"


def test_the_county_s_monthly_rows_and_balances_are_the_sums_of_its_entries(
        county: Ledger) -> None:
    with county.sessions() as session:
        def rows(statement: str) -> set[tuple[Any, ...]]:
            return {tuple(row) for row in session.execute(text(statement))}

        assert rows(MONTHLY_ROWS_FROM_ENTRIES) == rows(MONTHLY_ROWS)
        assert rows(BALANCES_FROM_MONTHLY_ROWS) == rows(BALANCES)
        residents = session.scalar(text("SELECT count(DISTINCT resident) FROM balances"))
        numbered = session.execute(text(
            "SELECT count(*), min(seq), max(seq), max(recorded_at) <= now() FROM ledger_entries"
        )).one()
    assert residents == RESIDENTS
    assert numbered == (numbered[0], 1, numbered[0], True)


def test_the_county_s_credit_terms_are_the_simulation_s_scores(county: Ledger) -> None:
    moment = now()
    with county.sessions() as session:
        active = load_versions(session, moment).active
        assert active is not None
        scores = resident_scores(session, active.rules, moment)
    for number in range(0, RESIDENTS, 7):
        resident = county_resident(number).pseudonym
        with county.sessions.begin() as session:
            answer = terms.credit_terms(session, resident, "bench-test", moment)
        expected = scores[resident]
        assert (answer["score"], answer["active_months"], answer["deductions"],
                answer["tier"]) == (expected.score, expected.active_months,
                                    expected.deductions, expected.tier)


def test_the_county_s_tree_is_at_its_head_so_the_ledger_appends_after_it(
        county: Ledger) -> None:
    """Its leaves are the entries' random entry hashes (the chain is not a chain either)."""
    with county.sessions() as session:
        leaves = [bytes.fromhex(entry_hash) for entry_hash in session.scalars(
            select(LedgerEntryRow.entry_hash).order_by(LedgerEntryRow.seq))]
        store = TileStore(session)
        assert store.size() == len(leaves) > TILE_WIDTH_HASHES
        assert root_from_stored(len(leaves), store.hash_at) == root_from_leaf_hashes(leaves)
    with county.sessions.begin() as session:
        lock_ledger(session)
        appended = append_own_entry(session, EntryKind.REDEEMED, population.PLATFORMS[0].code,
                                    county_resident(0, population.SEED_DEFAULT, None).pseudonym,
                                    1, now(), "00000000-0000-4000-8000-000000000000", "XS-1")
    assert appended.seq == len(leaves) + 1
    with county.sessions() as session:
        assert TileStore(session).size() == appended.seq
