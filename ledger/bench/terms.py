"""`pointsledger bench terms` (SPEC §11): credit-terms answers per second and their latency over
a county of residents, against PostgreSQL.

Set-up (not timed): a scratch database on the configured server, filled by
`ledger.bench.population` with monthly contribution, balances and the ledger entries behind them
(an answer reads the resident's monthly rows, then their entries through the (resident, seq)
index for those that do not count); two risk officers put the default rule set in force through
the lifecycle; the loan system's user gets a bearer token.

Timed: `GET /api/v1/residents/{r}/credit-terms` through the real HTTP layer in-process (the
Flask test client on `create_app`): the token's authentication, the snapshot, the rule set in
force, the reads, the decision's insert and commit, and the JSON of the answer. Residents are
drawn at random (uniformly, the same in every run), one request at a time on one thread: the
answers per second are the inverse of the mean latency. A few answers first warm up the pool of
connections and the parsed rule set; they are not counted, but they are decisions too.

Yardstick, in the same run over as many other random residents: the database work of an answer
alone on one bare psycopg connection — the resident's monthly rows for the window, their entries,
and a decision of the same size inserted and committed. The ratio says how much of an answer is
the application (authentication, versions, scoring, explanation, HTTP) rather than the database.
"""

from __future__ import annotations

import json
import math
import random
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import func, select

from ledger.app import create_app
from ledger.bench import county, population
from ledger.bench.ingest import BenchFailed
from ledger.bootstrap import Ledger
from ledger.domain.scoring import window
from ledger.infra.db.models import Decision
from ledger.service.rules.default import DEFAULT_RULESET
from ledger.settings import Settings

RESIDENTS_DEFAULT = 100_000
REQUESTS_DEFAULT = 2000
REQUESTS_MAX = 1_000_000
WARMUP_REQUESTS = 50
SAMPLE_SEED = 20261123
YARDSTICK_USER = "bench-yardstick"
TERMS_PATH = "/api/v1/residents/{resident}/credit-terms"
THREADS = 1


@dataclass(frozen=True)
class TermsBenchResult:
    filled: population.Filled
    latencies_s: tuple[float, ...]
    seconds: float
    decisions_written: int
    tiers: dict[int, int]
    yardstick_seconds: float

    @property
    def answers_per_s(self) -> float:
        return len(self.latencies_s) / self.seconds

    @property
    def yardstick_per_s(self) -> float:
        return len(self.latencies_s) / self.yardstick_seconds

    def document(self) -> dict[str, Any]:
        ordered = sorted(self.latencies_s)
        return {
            "bench": "terms",
            "residents": self.filled.residents,
            "monthly_rows": self.filled.monthly_rows,
            "ledger_entries": self.filled.entries,
            "threads": THREADS,
            "requests": len(ordered),
            "warmup_requests": WARMUP_REQUESTS,
            "seconds": round(self.seconds, 3),
            "answers_per_s": round(self.answers_per_s, 1),
            "p50_ms": round(_percentile(ordered, 50) * 1000, 2),
            "p99_ms": round(_percentile(ordered, 99) * 1000, 2),
            "max_ms": round(ordered[-1] * 1000, 2),
            "decisions_written": self.decisions_written,
            "tiers_answered": {str(tier): count for tier, count in sorted(self.tiers.items())},
            "yardstick_per_s": round(self.yardstick_per_s, 1),
            "ratio": round(self.answers_per_s / self.yardstick_per_s, 3),
            "fill_s": round(self.filled.seconds, 1),
        }


def _percentile(ordered: list[float], percent: int) -> float:
    """Nearest rank: the smallest latency that at least `percent` % of answers did not exceed."""
    return ordered[max(0, math.ceil(percent / 100 * len(ordered)) - 1)]


def run_terms_bench(settings: Settings, residents: int, requests: int) -> TermsBenchResult:
    sample = random.Random(SAMPLE_SEED)  # noqa: S311 (which residents to ask for, not secrets)
    with population.scratch_county(settings, "terms", residents, with_entries=True) as (
            ledger, scratch_url, filled):
        token = population.credit_system_token(ledger)
        latencies, seconds, tiers, answer = _ask(ledger, token, residents, requests, sample)
        written = _decisions(ledger, population.CREDIT_SYSTEM_USER)
        if written != WARMUP_REQUESTS + requests:
            raise BenchFailed(f"{written} decisions were written for "
                              f"{WARMUP_REQUESTS + requests} answers")
        yardstick = _time_yardstick(ledger, scratch_url, residents, requests, sample, answer)
    return TermsBenchResult(filled, tuple(latencies), seconds, written, dict(tiers), yardstick)


def _ask(ledger: Ledger, token: str, residents: int, requests: int, sample: random.Random
         ) -> tuple[list[float], float, Counter[int], dict[str, Any]]:
    """Latencies of the timed answers, their total seconds, the tiers they gave, and one of
    them (the yardstick inserts decisions of its size)."""
    client = create_app(ledger).test_client()
    headers = {"Authorization": f"Bearer {token}"}
    answer: dict[str, Any] = {}
    for _ in range(WARMUP_REQUESTS):
        answer = _answer(client, headers, _pick(sample, residents))
    latencies: list[float] = []
    tiers: Counter[int] = Counter()
    started = time.perf_counter()
    for _ in range(requests):
        asked = time.perf_counter()
        answer = _answer(client, headers, _pick(sample, residents))
        latencies.append(time.perf_counter() - asked)
        tiers[answer["tier"]] += 1
    return latencies, time.perf_counter() - started, tiers, answer


def _answer(client: FlaskClient, headers: dict[str, str], resident: str) -> dict[str, Any]:
    response = client.get(TERMS_PATH.format(resident=resident), headers=headers)
    if response.status_code != 200:
        raise BenchFailed(f"credit terms answered {response.status_code}: "
                          f"{response.get_data(as_text=True)[:500]}")
    document: dict[str, Any] = response.get_json()
    return document


def _pick(sample: random.Random, residents: int) -> str:
    return county.resident(sample.randrange(residents)).pseudonym


def _decisions(ledger: Ledger, asked_by: str) -> int:
    with ledger.sessions() as session:
        return session.scalar(select(func.count()).select_from(Decision)
                              .where(Decision.asked_by == asked_by)) or 0


_MONTH_ROWS = ("SELECT platform, category, month, awarded, revoked, deducted, deductions "
               "FROM monthly_contributions WHERE resident = %s AND month = ANY(%s)")
_ENTRIES = ("SELECT kind, platform, category, points, occurred_at FROM ledger_entries "
            "WHERE resident = %s AND seq <= %s")
_DECISION = ("INSERT INTO decisions (id, resident, as_of, ledger_seq, ruleset_version, "
             "ruleset_sha256, asked_by, asked_at, answer) "
             "VALUES (%s, %s, now(), %s, %s, %s, %s, now(), CAST(%s AS json))")


def _time_yardstick(ledger: Ledger, database_url: str, residents: int, requests: int,
                    sample: random.Random, answer: dict[str, Any]) -> float:
    months = window(ledger.clock(), DEFAULT_RULESET["window_months"])
    answer_text = json.dumps(answer)
    with population.connect(database_url) as connection:
        started = time.perf_counter()
        for _ in range(requests):
            resident = _pick(sample, residents)
            connection.execute(_MONTH_ROWS, (resident, months)).fetchall()
            connection.execute(_ENTRIES, (resident, answer["ledger_seq"])).fetchall()
            connection.execute(_DECISION, (
                str(uuid.uuid4()), resident, answer["ledger_seq"], answer["ruleset_version"],
                answer["ruleset_sha256"], YARDSTICK_USER, answer_text))
            connection.commit()
        seconds = time.perf_counter() - started
    if _decisions(ledger, YARDSTICK_USER) != requests:
        raise BenchFailed("the yardstick's decisions were not all written")
    return seconds
