"""`pointsledger bench console` prints each page's latencies and the ingest rate it ran under,
and drops its scratch database; it refuses SQLite, a missing broker and a busy ledger queue,
each with one sentence. (A benchmark, not a timed test: no assertion on speed.)"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.bench import console, population
from ledger.bench.console_client import forms_of
from ledger.bench.console_pages import PAGES
from ledger.cli.main import cli
from ledger.contract.signing import EventSigner
from tests.amqp.support import Published, declare, publish, ready_messages
from tests.rules.test_bench_terms import exists, record_scratch_names
from tests.support import POSTGRES_ADMIN_URL, TEST_PEPPER

RESIDENTS = 300
REQUESTS = 5
LEDGER_QUEUE = "pointsledger.ledger"


def bench(tmp_path: Path, *arguments: str, database_url: str = POSTGRES_ADMIN_URL,
          amqp_url: str = "") -> Result:
    environment = {"POINTSLEDGER_DATABASE_URL": database_url,
                   "POINTSLEDGER_AMQP_URL": amqp_url,
                   "POINTSLEDGER_RESIDENT_PEPPER": TEST_PEPPER,
                   "POINTSLEDGER_LEDGER_KEY_FILE": str(tmp_path / "ledger.key")}
    return CliRunner().invoke(cli, ["bench", "console", *arguments], env=environment)


def document_of(result: Result) -> dict[str, Any]:
    assert result.exit_code == 0, result.output
    document: dict[str, Any] = json.loads(result.stdout)
    return document


@pytest.mark.postgres
@pytest.mark.rabbitmq
def test_bench_console_prints_each_page_s_latencies_and_the_ingest_rate_then_drops_its_database(
        tmp_path: Path, amqp_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    names = record_scratch_names(monkeypatch)  # wraps the one population imported
    monkeypatch.setattr(console, "scratch_database", vars(population)["scratch_database"])

    document = document_of(bench(tmp_path, "--residents", str(RESIDENTS),
                                 "--requests", str(REQUESTS), amqp_url=amqp_url))

    assert document["bench"] == "console"
    assert document["residents"] == RESIDENTS
    assert document["entries"] > document["monthly_rows"] > RESIDENTS
    assert document["audit_events"] > 0 and document["rejections"] > 0
    assert set(document["pages"]) == set(PAGES)
    for figures in document["pages"].values():
        assert figures["requests"] == REQUESTS
        assert 0 < figures["p50_ms"] <= figures["p95_ms"] <= figures["p99_ms"] <= figures[
            "max_ms"]
    assert document["redeemed"] + document["redemptions_refused"] == REQUESTS
    assert document["redeemed"] > 0
    assert document["events_published"] > 0
    assert document["ingest_events_per_s"] > 0
    assert document["events_rejected"] == 0
    assert ready_messages(amqp_url, LEDGER_QUEUE) == 0
    assert len(names) == 1
    assert not exists(names[0])


def test_bench_console_refuses_sqlite(tmp_path: Path) -> None:
    result = bench(tmp_path, "--residents", "10",
                   database_url=f"sqlite:///{tmp_path / 'ledger.sqlite3'}",
                   amqp_url="amqp://guest:guest@127.0.0.1:5672/unused")

    assert result.exit_code == 2
    assert "bench console needs PostgreSQL" in result.output
    assert not (tmp_path / "ledger.sqlite3").exists()


def test_bench_console_refuses_to_run_without_a_broker(tmp_path: Path) -> None:
    result = bench(tmp_path, "--residents", "10")

    assert result.exit_code == 2
    assert "bench console needs POINTSLEDGER_AMQP_URL" in result.output
    assert not (tmp_path / "ledger.key").exists()


@pytest.mark.postgres
@pytest.mark.rabbitmq
def test_bench_console_refuses_a_vhost_whose_ledger_queue_is_in_use(
        tmp_path: Path, amqp_url: str) -> None:
    declare(amqp_url)
    signer = EventSigner(Ed25519PrivateKey.generate())
    publish(amqp_url, [Published("points.awarded", signer.sign_body("waiting-1", b"{}"))])

    result = bench(tmp_path, "--residents", "10", amqp_url=amqp_url)

    assert result.exit_code == 2
    assert "already holds 1 messages" in result.output
    assert ready_messages(amqp_url, LEDGER_QUEUE) == 1


def test_the_client_sends_a_form_as_a_browser_would() -> None:
    page = """<form method="post" action="/console/counter/residents/r/gifts/SOAP?form=w">
      <input type="hidden" name="csrf_token" value="token">
      <input id="SOAP-key" name="SOAP-key" type="hidden" value="counter.w.SOAP">
      <select name="SOAP-platform"><option value="lijiayuan">沥家园</option>
        <option value="xintang">新塘分</option></select>
      <input name="SOAP-quantity" type="number" value="1">
      <button type="submit">Redeem</button></form>
      <form method="get" action="/console/ledger/entries">
      <select name="kind"><option value="">All</option>
        <option value="points.deducted" selected>Deducted</option></select></form>"""

    redeem, entries = forms_of(page)

    assert redeem.method == "post"
    assert redeem.action == "/console/counter/residents/r/gifts/SOAP?form=w"
    assert redeem.fields == {"csrf_token": "token", "SOAP-key": "counter.w.SOAP",
                             "SOAP-platform": "lijiayuan", "SOAP-quantity": "1"}
    assert entries.fields == {"kind": "points.deducted"}


def test_percentiles_are_nearest_rank() -> None:
    latencies = [float(n) for n in range(1, 101)]

    assert [console.percentile(latencies, percent) for percent in (50, 95, 99)] == [
        50.0, 95.0, 99.0]
    assert console.percentile([7.0], 99) == 7.0
