"""/metrics under gunicorn with two workers (SPEC §15): each worker counts the requests it
answers in its own files (prometheus_client's multiprocess mode), and a scrape, whichever
worker answers it, adds up all of them."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from prometheus_client.mmap_dict import MmapedDict

from ledger.bootstrap import build
from tests.api.support import create_tokens
from tests.conftest import make_settings
from tests.ops.gunicorn_live_gauge import WORKERS_ALIVE
from tests.ops.support import HTTP_COUNT, parse, value
from tests.support import TEST_PEPPER, stop_process

ROOT = Path(__file__).resolve().parents[2]
LOCALHOST = "127.0.0.1"
WORKERS = 2
BATCH = 20
BATCHES_MAX = 50
CLIENT_THREADS = 8  # several at once, so that a busy worker leaves some to the other
READY_TIMEOUT_S = 60.0
SCRAPES = 4
HEALTHZ = {"route": "/healthz", "method": "GET", "status": "200"}
HTTP_SECONDS_SUM = "pointsledger_http_request_duration_seconds_sum"


@pytest.fixture
def served(sqlite_url: str, tmp_path: Path) -> Iterator[tuple[str, str, Path]]:
    """gunicorn with two workers on a SQLite ledger; its base URL, a monitor's token and the
    metrics directory."""
    with _gunicorn(sqlite_url, tmp_path, "ledger.gunicorn_config") as running:
        yield running


@pytest.fixture
def served_with_a_live_gauge(sqlite_url: str, tmp_path: Path) -> Iterator[tuple[str, str, Path]]:
    """The same, each worker also setting tests.ops.gunicorn_live_gauge's livesum gauge."""
    with _gunicorn(sqlite_url, tmp_path, "tests.ops.gunicorn_live_gauge") as running:
        yield running


@contextlib.contextmanager
def _gunicorn(sqlite_url: str, tmp_path: Path, config: str) -> Iterator[tuple[str, str, Path]]:
    settings = make_settings(sqlite_url, tmp_path=tmp_path)
    ledger = build(settings)
    try:
        monitor = create_tokens(ledger.sessions).by_role["monitor"]
        ledger.ledger_key()  # made once here, not by two workers at once
    finally:
        ledger.close()
    metrics_directory = tmp_path / "metrics"
    metrics_directory.mkdir()  # as docker-compose's tmpfs
    (metrics_directory / "counter_1.db").write_bytes(b"")  # a previous run's, to be removed
    port = _free_port()
    environment = {**os.environ, "PYTHONPATH": str(ROOT),
                   "POINTSLEDGER_DATABASE_URL": sqlite_url,
                   "POINTSLEDGER_RESIDENT_PEPPER": TEST_PEPPER,
                   "POINTSLEDGER_LEDGER_KEY_FILE": str(settings.ledger_key_file),
                   "PROMETHEUS_MULTIPROC_DIR": str(metrics_directory)}
    environment.pop("POINTSLEDGER_AMQP_URL", None)
    command = [sys.executable, "-m", "gunicorn", "--bind", f"{LOCALHOST}:{port}",
               "--workers", str(WORKERS), "--config", f"python:{config}",
               "--logger-class", "ledger.api.gunicorn_logging.RedactingLogger",
               "--chdir", str(ROOT), "wsgi:app"]
    with (tmp_path / "gunicorn.log").open("w+") as log:
        process = subprocess.Popen(command, env=environment, stdout=log, stderr=subprocess.STDOUT)
        try:
            base_url = f"http://{LOCALHOST}:{port}"
            _wait_until_ready(process, base_url, log)
            yield base_url, monitor, metrics_directory
        finally:
            stop_process(process, signal.SIGTERM, 30)


def test_requests_answered_by_two_workers_add_up(served: tuple[str, str, Path]) -> None:
    base_url, monitor, metrics_directory = served

    sent = _until_every_worker_answered(base_url, metrics_directory)
    assert not (metrics_directory / "counter_1.db").exists()

    for _ in range(SCRAPES):  # whichever worker answers, the sum is the same
        samples = parse(_scrape(base_url, monitor))
        assert value(samples, HTTP_COUNT, **HEALTHZ) == sent


@pytest.mark.slow
def test_a_killed_worker_is_forgotten_by_its_live_gauges_but_its_counts_stay(
        served_with_a_live_gauge: tuple[str, str, Path]) -> None:
    """A worker killed outright (SIGKILL, as the OOM killer does) runs no code of its own: only
    the master's child_exit hook (ledger.gunicorn_config) can call mark_process_dead for it.

    What that call removes are the dead pid's `gauge_live*_<pid>.db` files. The API itself has
    no live gauge (all of ledger.runtime.metrics' gauges are `max`), so the workers here set
    one (tests/ops/gunicorn_live_gauge.py): its sum counts the living workers only if the
    master forgot the dead one. The requests the dead worker counted are history, not state:
    its histogram file stays, and the scraped count of /healthz must not go down."""
    base_url, monitor, metrics_directory = served_with_a_live_gauge
    sent = _until_every_worker_answered(base_url, metrics_directory)
    first_pids = _answered_healthz(metrics_directory)
    assert _pids(metrics_directory, "gauge_livesum") == first_pids
    assert value(parse(_scrape(base_url, monitor)), WORKERS_ALIVE) == WORKERS
    killed, survivor = sorted(first_pids)

    os.kill(killed, signal.SIGKILL)

    # gunicorn starts a worker in its place; once it has set its gauge, the master has long
    # reaped the killed one (child_exit runs as it reaps, before it spawns the replacement).
    deadline = time.monotonic() + READY_TIMEOUT_S
    while len(_pids(metrics_directory, "gauge_livesum") - first_pids) < 1:
        assert time.monotonic() < deadline, "no worker replaced the one killed"
        time.sleep(0.1)
    live = _pids(metrics_directory, "gauge_livesum")
    assert killed not in live and survivor in live
    assert killed in _pids(metrics_directory, "histogram")  # its counts are kept
    for _ in range(SCRAPES):  # whichever worker answers, the killed one is not alive in it
        samples = parse(_scrape(base_url, monitor))
        assert value(samples, WORKERS_ALIVE) == WORKERS
        assert value(samples, HTTP_COUNT, **HEALTHZ) == sent


def _until_every_worker_answered(base_url: str, metrics_directory: Path) -> int:
    """How many /healthz requests it took until each worker had answered one (the second may
    still be loading the app when the first is ready)."""
    sent = 0
    with ThreadPoolExecutor(CLIENT_THREADS) as pool:
        for _ in range(BATCHES_MAX):
            statuses = list(pool.map(lambda _: _get(base_url + "/healthz"), range(BATCH)))
            assert statuses == [200] * BATCH
            sent += BATCH
            if len(_answered_healthz(metrics_directory)) == WORKERS:
                break
    assert len(_answered_healthz(metrics_directory)) == WORKERS
    return sent


def _answered_healthz(metrics_directory: Path) -> set[int]:
    """The workers that timed a /healthz answer. (A worker's histogram file alone says less: it
    is made as the worker loads the app, before its post_worker_init hook and any answer.)"""
    answered = set()
    for path in metrics_directory.glob("histogram_*.db"):
        for key, observed, *_ in MmapedDict.read_all_values_from_file(str(path)):
            _metric, sample, labels, _help = json.loads(key)
            if (sample == HTTP_SECONDS_SUM and labels.get("route") == HEALTHZ["route"]
                    and observed > 0):
                answered.add(int(path.stem.rsplit("_", 1)[1]))
    return answered


def _pids(metrics_directory: Path, kind: str) -> set[int]:
    """The processes that wrote metric files of a kind (`histogram`, `gauge_livesum`, …):
    prometheus_client names each file <kind>_<pid>.db."""
    return {int(path.stem.rsplit("_", 1)[1]) for path in metrics_directory.glob(f"{kind}_*.db")}


def _get(url: str, token: str | None = None) -> int:
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers),
                                timeout=10) as answer:
        status: int = answer.status
        return status


def _scrape(base_url: str, token: str) -> str:
    request = urllib.request.Request(base_url + "/metrics",
                                     headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        text: str = answer.read().decode("utf-8")
        return text


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOCALHOST, 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_until_ready(process: subprocess.Popen[bytes], base_url: str, log: object) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        assert process.poll() is None, f"gunicorn exited with {process.returncode}"
        try:
            if _get(base_url + "/readyz") == 200:  # not the route counted below
                return
        except (urllib.error.URLError, OSError):
            time.sleep(0.2)
    pytest.fail(f"gunicorn did not answer within {READY_TIMEOUT_S:.0f} s")
