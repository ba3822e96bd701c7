"""`pointsledger simulate … --listen`: the simulator staying up as the platform, serving its
records (五和众联) and printing every notice it receives."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner

from ledger.cli.main import cli

POINTSLEDGER = str(Path(sys.executable).parent / "pointsledger")
START_TIMEOUT_S = 30.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def _simulator(*arguments: str) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    port = _free_port()
    process = subprocess.Popen([POINTSLEDGER, "simulate", *arguments, "--listen",
                                f"127.0.0.1:{port}"], stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True)
    try:
        yield f"http://127.0.0.1:{port}", process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        finally:
            assert process.stdout is not None
            process.stdout.close()


def _request(url: str, body: bytes | None = None) -> bytes:
    """Retried until the simulator listens."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        request = urllib.request.Request(url, data=body, method="POST" if body else "GET",
                                         headers={"content-type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return bytes(response.read())
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


@pytest.mark.slow
def test_the_wuhe_simulator_serves_its_records_and_prints_the_notices_it_takes() -> None:
    with _simulator("wuhe_zhonglian", "--count", "30", "--seed", "1") as (base, process):
        page = json.loads(_request(f"{base}/api/points"))
        assert len(page["items"]) == 30 and page["next"] == str(page["items"][-1]["id"])
        _request(f"{base}/api/notices", b'{"notice_id": "redemption:1"}')
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
        assert process.stdout is not None
        assert json.loads(process.stdout.readline()) == {"notice_id": "redemption:1"}


@pytest.mark.slow
def test_a_push_platforms_simulator_takes_notices_at_slash_notices() -> None:
    with _simulator("pingan_gongfu", "--count", "1") as (base, process):
        assert process.stdout is not None
        # Without --to the records are printed first, then the notices as they come.
        assert json.loads(process.stdout.readline())[0]["activityId"]
        _request(f"{base}/notices", b'{"notice_id": "reversal:2"}')
        assert json.loads(process.stdout.readline()) == {"notice_id": "reversal:2"}


@pytest.mark.parametrize(("arguments", "message"), [
    (["nanyang_young", "--listen", "127.0.0.1:0"], "exchanges files"),
    (["wuhe_zhonglian", "--to", "http://127.0.0.1:9/"], "serve its records with --listen"),
    (["lijiayuan", "--listen", "nowhere"], "--listen must be HOST:PORT"),
])
def test_simulate_says_what_it_cannot_do(arguments: list[str], message: str) -> None:
    result = CliRunner().invoke(cli, ["simulate", *arguments])
    assert result.exit_code == 2
    assert message in result.output
