"""`pointsledger bench publish` prints its figures, and leaves the vhost's queues as it found
them: empty, with no connection left open. (A benchmark, not a timed test: no assertion on the
ratio itself.)"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.cli.main import cli
from ledger.contract.signing import EventSigner
from tests.amqp.support import (
    Published,
    declare,
    publish,
    ready_messages,
    vhost_of,
    wait_until,
)
from tests.support import POSTGRES_ADMIN_URL, TEST_PEPPER, rabbitmqctl

pytestmark = [pytest.mark.rabbitmq]

EVENTS = 500
QUEUES = ("pointsledger.ledger", "pointsledger.dead", "pointsledger.outbound.lijiayuan")
CONNECTIONS_CLOSE_TIMEOUT_S = 10


def _bench(amqp_url: str, tmp_path: Path, *options: str) -> Result:
    environment = {"POINTSLEDGER_AMQP_URL": amqp_url,
                   "POINTSLEDGER_RESIDENT_PEPPER": TEST_PEPPER,
                   # Settings are read whole: keep the unused ledger database out of var/.
                   "POINTSLEDGER_DATABASE_URL": f"sqlite:///{tmp_path / 'unused.sqlite3'}"}
    return CliRunner().invoke(cli, ["bench", "publish", "--events", str(EVENTS), *options],
                              env=environment)


def _document(result: Result) -> dict[str, Any]:
    assert result.exit_code == 0, result.output
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def _connections(amqp_url: str) -> list[str]:
    output = rabbitmqctl("list_connections", "-q", "--no-table-headers", "vhost", "name")
    return [line for line in output.splitlines() if line.split("\t")[0] == vhost_of(amqp_url)]


def _assert_left_as_found(amqp_url: str) -> None:
    for queue in QUEUES:
        assert ready_messages(amqp_url, queue) == 0, queue
    wait_until(lambda: not _connections(amqp_url), CONNECTIONS_CLOSE_TIMEOUT_S,
               "the bench's connections to close")


def test_bench_publish_prints_both_rates_and_their_ratio_and_purges_what_it_published(
        amqp_url: str, tmp_path: Path) -> None:
    document = _document(_bench(amqp_url, tmp_path, "--rounds", "2"))

    assert document["bench"] == "publish"
    assert document["events"] == EVENTS
    assert document["outbox"] == "sqlite"
    assert document["rounds"] == 2
    assert len(document["adapter_seconds"]) == len(document["yardstick_seconds"]) == 2
    assert document["adapter_events_per_s"] > 0
    assert document["yardstick_events_per_s"] > 0
    assert document["ratio"] == pytest.approx(
        document["adapter_events_per_s"] / document["yardstick_events_per_s"], abs=0.001)
    assert document["target_ratio"] == 0.7
    assert document["adapter_events_per_s"] == pytest.approx(
        EVENTS / min(document["adapter_seconds"]), rel=0.01)
    _assert_left_as_found(amqp_url)


@pytest.mark.postgres
def test_bench_publish_can_keep_its_outbox_in_a_scratch_postgresql_database(
        amqp_url: str, tmp_path: Path) -> None:
    document = _document(_bench(amqp_url, tmp_path, "--rounds", "1",
                                "--outbox", POSTGRES_ADMIN_URL))

    assert document["outbox"] == "postgresql"
    assert document["rounds"] == 1
    _assert_left_as_found(amqp_url)


def test_bench_publish_refuses_a_ledger_queue_in_use_and_purges_nothing(
        amqp_url: str, tmp_path: Path) -> None:
    declare(amqp_url)
    event = {"event_id": "real-1", "platform": "lijiayuan", "seq": 1, "type": "points.awarded",
             "resident": "a" * 64, "category": "garbage_sorting", "points": 3,
             "occurred_at": "2026-11-01T09:30:00+08:00"}
    signer = EventSigner(Ed25519PrivateKey.generate())
    publish(amqp_url, [Published("points.awarded", signer.sign(event))])

    result = _bench(amqp_url, tmp_path)

    assert result.exit_code == 2
    assert "pointsledger.ledger already holds 1 messages" in result.output
    assert ready_messages(amqp_url, "pointsledger.ledger") == 1


def test_bench_publish_refuses_a_sqlite_outbox_url(amqp_url: str, tmp_path: Path) -> None:
    result = _bench(amqp_url, tmp_path, "--outbox", f"sqlite:///{tmp_path / 'outbox.sqlite3'}")

    assert result.exit_code == 2
    assert "--outbox takes a PostgreSQL URL" in result.output
    assert not (tmp_path / "outbox.sqlite3").exists()


def test_bench_publish_needs_a_broker_url(tmp_path: Path) -> None:
    result = _bench("", tmp_path)

    assert result.exit_code == 2
    assert "POINTSLEDGER_AMQP_URL must be set" in result.output
