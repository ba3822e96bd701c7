"""`pointsledger bench ingest` (SPEC §11): the consumer against PostgreSQL with the checkpointer
beside it, as deployed (SPEC §14); it prints its figures and drops its scratch database. (A
benchmark, not a timed test: no assertion on the ratio itself.)"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from ledger.cli.main import cli
from tests.amqp.support import ready_messages
from tests.support import POSTGRES_ADMIN_URL, TEST_PEPPER

pytestmark = [pytest.mark.rabbitmq, pytest.mark.postgres, pytest.mark.slow]

EVENTS = 1000


def test_bench_ingest_counts_what_it_timed_and_signs_the_whole_ledger(
        amqp_url: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["bench", "ingest", "--events", str(EVENTS)], env={
        "POINTSLEDGER_AMQP_URL": amqp_url, "POINTSLEDGER_RESIDENT_PEPPER": TEST_PEPPER,
        "POINTSLEDGER_DATABASE_URL": POSTGRES_ADMIN_URL,
        "POINTSLEDGER_LEDGER_KEY_FILE": str(tmp_path / "ledger.key")})

    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["bench"] == "ingest"
    assert document["events"] == EVENTS
    assert document["events_per_s"] == pytest.approx(EVENTS / document["seconds"], rel=0.01)
    assert document["ratio"] == pytest.approx(
        document["events_per_s"] / document["ed25519_verifications_per_s"], abs=0.001)
    assert document["consumer_peak_rss_mb"] > 0
    assert document["checkpoints_signed"] >= 1
    assert ready_messages(amqp_url, "pointsledger.ledger") == 0
