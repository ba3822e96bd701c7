"""`pointsledger bench proofs` (SPEC §14): proofs answered by the API over a tree of N leaves in
a scratch PostgreSQL database, which it drops. (A benchmark, not a timed test: no assertion on
the figures themselves.)"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from ledger.cli.main import cli
from tests.support import POSTGRES_ADMIN_URL, TEST_PEPPER

pytestmark = [pytest.mark.postgres]


def test_bench_proofs_times_both_kinds_of_proof(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["bench", "proofs", "--leaves", "3000", "--requests", "20"],
                                env={"POINTSLEDGER_DATABASE_URL": POSTGRES_ADMIN_URL,
                                     "POINTSLEDGER_RESIDENT_PEPPER": TEST_PEPPER,
                                     "POINTSLEDGER_LEDGER_KEY_FILE": str(tmp_path / "key")})
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert (document["bench"], document["leaves"]) == ("proofs", 3000)
    for kind in ("inclusion", "consistency"):
        assert document[kind]["requests"] == 20
        assert 0 < document[kind]["p50_ms"] <= document[kind]["p99_ms"]


def test_bench_proofs_needs_postgresql(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["bench", "proofs", "--leaves", "10"], env={
        "POINTSLEDGER_DATABASE_URL": f"sqlite:///{tmp_path / 'ledger.sqlite3'}",
        "POINTSLEDGER_RESIDENT_PEPPER": TEST_PEPPER,
        "POINTSLEDGER_LEDGER_KEY_FILE": str(tmp_path / "key")})
    assert result.exit_code == 2
    assert "bench proofs needs PostgreSQL" in result.output
