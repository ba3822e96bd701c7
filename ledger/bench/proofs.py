"""`pointsledger bench proofs`: how long the API takes to answer an inclusion and a consistency
proof when the ledger's tree holds N leaves (SPEC §14, target < 10 ms at 1 000 000).

A proof reads O(log₂₅₆ n) tiles whatever the ledger holds besides, so the tree alone is built
(random leaf hashes grown through the store the appends use, in chunks) in a scratch PostgreSQL
database, with checkpoints signed at a spread of sizes; then random proofs are asked of the
real app through its WSGI interface, each timed from request to the last byte of the answer.
"""

from __future__ import annotations

import dataclasses
import os
import random
import statistics
import time
from dataclasses import dataclass
from typing import Any

from flask.testing import FlaskClient

from ledger.app import create_app
from ledger.bench import population
from ledger.bench.ingest import BenchFailed
from ledger.bench.scratch_database import scratch_database
from ledger.bootstrap import Ledger, build
from ledger.infra.db import migrate
from ledger.infra.db.tree_store import LEDGER_LOG, TileStore
from ledger.runtime.progress import progress_bar
from ledger.service import access
from ledger.service.checkpoints import CheckpointPolicy, log_signer, sign_if_due
from ledger.settings import Settings

LEAVES_DEFAULT = 1_000_000
GROW_CHUNK_LEAVES = 50_000
CHECKPOINTS = 20
REQUESTS_DEFAULT = 2000
TARGET_MS = 10.0
# Which proofs are asked: the same ones at every run.
SEED = 14
SIGN_NOW = CheckpointPolicy(interval_s=0, poll_s=0)
BENCH_AUDITOR = "bench.auditor"


@dataclass(frozen=True)
class Timings:
    requests: int
    p50_ms: float
    p99_ms: float

    @classmethod
    def of(cls, seconds: list[float]) -> Timings:
        ordered = sorted(seconds)
        return cls(len(ordered), statistics.median(ordered) * 1000,
                   ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000)

    def document(self) -> dict[str, Any]:
        return {"requests": self.requests, "p50_ms": round(self.p50_ms, 2),
                "p99_ms": round(self.p99_ms, 2)}


@dataclass(frozen=True)
class ProofsBenchResult:
    leaves: int
    fill_s: float
    inclusion: Timings
    consistency: Timings

    def document(self) -> dict[str, Any]:
        return {"bench": "proofs", "leaves": self.leaves, "fill_s": round(self.fill_s, 1),
                "inclusion": self.inclusion.document(),
                "consistency": self.consistency.document(), "target_p99_ms": TARGET_MS}


def run_proofs_bench(settings: Settings, leaves: int, requests: int) -> ProofsBenchResult:
    population.require_postgresql(settings, "proofs")
    with scratch_database(settings.database_url) as scratch_url:
        migrate.upgrade(scratch_url)
        scratch = dataclasses.replace(settings, database_url=scratch_url)
        ledger = build(scratch)
        try:
            started = time.perf_counter()
            sizes = _fill(ledger, leaves)
            fill_s = time.perf_counter() - started
            with ledger.sessions.begin() as session:
                access.add_user(session, BENCH_AUDITOR, "auditor", None, ledger.clock())
                token, _ = access.create_token(session, BENCH_AUDITOR, ledger.clock())
            auditor = {"Authorization": f"Bearer {token}"}
            client = create_app(ledger=ledger).test_client()
            rng = random.Random(SEED)  # noqa: S311 (which proofs to ask, not secrets)
            inclusion, consistency = [], []
            for _ in range(requests):
                size = rng.choice(sizes)
                inclusion.append(_timed(client, "/api/v1/ledger/proofs/inclusion",
                                        {"seq": rng.randint(1, size), "tree_size": size},
                                        auditor))
                consistency.append(_timed(client, "/api/v1/ledger/proofs/consistency",
                                          {"first": rng.randint(1, size), "second": size}))
        finally:
            ledger.close()
    return ProofsBenchResult(leaves, fill_s, Timings.of(inclusion), Timings.of(consistency))


def _fill(ledger: Ledger, leaves: int) -> list[int]:
    """Grow the tree to `leaves` random leaves, signing a checkpoint every `leaves /
    CHECKPOINTS`; the sizes signed."""
    signer = log_signer(ledger.settings.log_origin, LEDGER_LOG, ledger.ledger_key())
    step = max(1, leaves // CHECKPOINTS)
    sizes: list[int] = []
    size = 0
    with progress_bar("tree leaves grown") as progress:
        while size < leaves:
            count = min(GROW_CHUNK_LEAVES, leaves - size, step - size % step)
            with ledger.sessions.begin() as session:
                TileStore(session, LEDGER_LOG).grow(size, [os.urandom(32) for _ in range(count)])
            size += count
            if size % step == 0 or size == leaves:
                with ledger.sessions.begin() as session:
                    if sign_if_due(session, LEDGER_LOG, signer, SIGN_NOW, ledger.clock()) is None:
                        raise BenchFailed(f"no checkpoint was signed at size {size}")
                sizes.append(size)
            progress(size, leaves)
    return sizes


def _timed(client: FlaskClient, path: str, query: dict[str, int],
           headers: dict[str, str] | None = None) -> float:
    started = time.perf_counter()
    response = client.get(path, query_string=query, headers=headers or {})
    response.get_data()
    elapsed = time.perf_counter() - started
    if response.status_code != 200:
        raise BenchFailed(f"{path} answered {response.status_code}: {response.get_data()!r}")
    return elapsed
