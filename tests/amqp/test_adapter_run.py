"""`pointsledger adapter run` as a real process, one per kind of source: webhooks (lijiayuan,
pingan_gongfu), a file inbox (nanyang_young) and a polled API (wuhe_zhonglian). The records reach
the ledger through RabbitMQ, `adapter status` accounts for every one of them, and SIGTERM stops
the adapter cleanly. (The mapping and the pump are tested in-process elsewhere: these are about
the command's wiring, its signals and its exit codes.)"""

from __future__ import annotations

import os
import random
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from adapters.wuhe_zhonglian import generate as generate_wuhe_records
from adapters.wuhe_zhonglian.simulator import PlatformServer
from ledger.bootstrap import Ledger
from ledger.contract.webhook import encode_private_key
from tests.amqp.adapter_runs import (
    POINTSLEDGER,
    AdapterRun,
    AdapterSetup,
    adapter_setup,
    assert_ledger_holds_exactly,
    cli_status,
    outbox_status,
    platform_entries,
    running_adapter,
)
from tests.amqp.support import running_consumer, wait_until
from tests.support import TEST_PEPPER

pytestmark = [pytest.mark.postgres, pytest.mark.rabbitmq]

RECORDS = 300
BAD_RECORDS = 4
SEED = 11
POLL_INTERVAL_S = 0.2
DELIVERY_TIMEOUT_S = 60.0
SIGTERM_STOP_S_MAX = 5.0
STATUS_COUNTS = ("backlog", "last_seq", "published_through", "quarantined")

# How the platform hands its records to a running adapter.
Deliver = Callable[[AdapterRun], None]
# A platform's side of the test: the adapter's source options, and its delivery.
PlatformSide = Iterator[tuple[list[str], Deliver]]


def _simulate(platform: str, target: str) -> None:
    """`pointsledger simulate PLATFORM --to TARGET`, as the platform itself would send."""
    completed = subprocess.run(
        [POINTSLEDGER, "simulate", platform, "--count", str(RECORDS), "--bad", str(BAD_RECORDS),
         "--seed", str(SEED), "--to", target],
        capture_output=True, text=True, timeout=DELIVERY_TIMEOUT_S, check=False)
    assert completed.returncode == 0, completed.stderr


@contextmanager
def _webhook(path: str, setup: AdapterSetup, _files: Path) -> PlatformSide:
    yield (["--listen", "127.0.0.1:0"],
           lambda adapter: _simulate(setup.platform, adapter.base_url() + path))


@contextmanager
def _inbox(setup: AdapterSetup, files: Path) -> PlatformSide:
    inbox = files / "inbox"
    yield (["--inbox", str(inbox), "--interval", str(POLL_INTERVAL_S)],
           lambda _adapter: _simulate(setup.platform, str(inbox)))
    assert [path.suffix for path in (inbox / "imported").iterdir()] == [".csv"]
    assert len(list(inbox.glob("*.csv.report.json"))) == 1


@contextmanager
def _polled_api(_setup: AdapterSetup, _files: Path) -> PlatformSide:
    server = PlatformServer([], page_size=50).start()
    records = generate_wuhe_records(random.Random(SEED), RECORDS, BAD_RECORDS, datetime.now(UTC))
    try:
        yield (["--url", server.url, "--interval", str(POLL_INTERVAL_S)],
               lambda _adapter: server.add(records))
    finally:
        server.stop()
    assert server.requested[0] is None and len(server.requested) > RECORDS // 50


SOURCES = {
    "lijiayuan": lambda setup, files: _webhook("/webhook", setup, files),
    "pingan_gongfu": lambda setup, files: _webhook("/activities", setup, files),
    "nanyang_young": _inbox,
    "wuhe_zhonglian": _polled_api,
}


@pytest.mark.parametrize("platform", list(SOURCES))
def test_adapter_run_delivers_to_the_ledger_and_stops_on_sigterm(
        platform: str, broker_ledger: Ledger, consumer_env: dict[str, str],
        tmp_path: Path) -> None:
    setup = adapter_setup(broker_ledger.sessions, platform, consumer_env, tmp_path)
    # The adapter declares the topology it publishes to: the consumer may connect later.
    with running_consumer(consumer_env, tmp_path / "consumer.log"), \
            SOURCES[platform](setup, tmp_path) as (source_arguments, deliver), \
            running_adapter(setup, source_arguments, tmp_path / "adapter.log") as adapter:
        deliver(adapter)
        wait_until(lambda: platform_entries(broker_ledger.sessions, platform) >= RECORDS,
                   DELIVERY_TIMEOUT_S, f"{RECORDS} {platform} entries in the ledger")
        wait_until(lambda: outbox_status(setup)["backlog"] == 0, DELIVERY_TIMEOUT_S,
                   "the backlog to be confirmed")
        assert adapter.alive(), adapter.log()

        started = time.monotonic()
        assert adapter.terminate() == 0, adapter.log()
        assert time.monotonic() - started < SIGTERM_STOP_S_MAX
    assert f"adapter {platform} stopped" in adapter.log()
    assert "Traceback" not in adapter.log()
    status = cli_status(setup)
    assert {name: status[name] for name in STATUS_COUNTS} == {
        "backlog": 0, "last_seq": RECORDS, "published_through": RECORDS,
        "quarantined": BAD_RECORDS}
    assert_ledger_holds_exactly(broker_ledger.sessions, setup)


def _refused(arguments: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """`adapter run lijiayuan` with a valid key (unless overwritten) and `arguments`; it must
    refuse before it connects anywhere, so the broker URL need not exist."""
    key_file = tmp_path / "lijiayuan.key"
    if not key_file.exists():
        key_file.write_text(encode_private_key(Ed25519PrivateKey.generate()) + "\n",
                            encoding="ascii")
    environment = {**os.environ, "POINTSLEDGER_AMQP_URL": "amqp://guest:guest@127.0.0.1:1/none",
                   "POINTSLEDGER_RESIDENT_PEPPER": TEST_PEPPER}
    return subprocess.run(
        [POINTSLEDGER, "adapter", "run", "lijiayuan", "--key-file", str(key_file),
         "--outbox", f"sqlite:///{tmp_path / 'outbox.sqlite3'}", *arguments],
        env=environment, cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.parametrize(("arguments", "message"), [
    (["--inbox", "x"], "lijiayuan receives webhooks: give --listen HOST:PORT"),
    (["--listen", "localhost"], "--listen must be HOST:PORT, not 'localhost'"),
])
def test_adapter_run_refuses_a_source_of_the_wrong_kind(
        arguments: list[str], message: str, tmp_path: Path) -> None:
    completed = _refused(arguments, tmp_path)
    assert (completed.returncode, completed.stderr.strip()) == (2, f"error: {message}")


def test_adapter_run_refuses_a_key_file_without_a_private_key(tmp_path: Path) -> None:
    (tmp_path / "lijiayuan.key").write_text("whpk_not-a-private-key\n", encoding="ascii")
    completed = _refused(["--listen", "127.0.0.1:0"], tmp_path)
    assert completed.returncode == 2
    assert "does not hold a whsk_ Ed25519 private key" in completed.stderr
    assert not (tmp_path / "outbox.sqlite3").exists()
