"""The README's quick start: `pointsledger demo` on a fresh directory, no servers."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

POINTSLEDGER = str(Path(sys.executable).parent / "pointsledger")
DEMO_START_TIMEOUT_S = 120


def _clean_environment() -> dict[str, str]:
    return {name: value for name, value in os.environ.items()
            if not name.startswith("POINTSLEDGER_")}


def _run(arguments: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([POINTSLEDGER, *arguments], cwd=cwd, env=_clean_environment(),
                          capture_output=True, text=True, timeout=300, check=False)


def test_demo_feeds_the_four_platforms_and_keeps_the_mistakes(tmp_path: Path) -> None:
    completed = _run(["demo", "--no-serve", "--events-per-platform", "60"], tmp_path)
    assert completed.returncode == 0, completed.stderr
    output = completed.stdout
    # 60 + one revocation per platform are recorded; one duplicate and one forgery each.
    assert "244 recorded" in output
    assert "4 duplicate" in output
    assert "4 rejected (bad_signature)" in output
    assert re.search(r"demo-auditor\s+plt_\S+", output)
    assert (tmp_path / "var" / "pointsledger.sqlite3").exists()
    verified = _run(["verify"], tmp_path)
    assert verified.returncode == 0, verified.stderr
    assert "chain intact: 244 entries" in verified.stdout


def test_demo_runs_again_and_continues_each_platform_seq(tmp_path: Path) -> None:
    assert _run(["demo", "--no-serve", "--events-per-platform", "5"], tmp_path).returncode == 0
    again = _run(["demo", "--no-serve", "--events-per-platform", "5"], tmp_path)
    assert again.returncode == 0, again.stderr
    assert "24 recorded" in again.stdout
    assert "chain intact: 48 entries" in _run(["verify"], tmp_path).stdout


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.slow
def test_demo_serves_the_api_it_prints(tmp_path: Path) -> None:
    port = _free_port()
    process = subprocess.Popen(
        [POINTSLEDGER, "demo", "--port", str(port), "--events-per-platform", "10"],
        cwd=tmp_path, env=_clean_environment(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )
    try:
        token = None
        deadline = time.monotonic() + DEMO_START_TIMEOUT_S
        assert process.stdout is not None
        while token is None and time.monotonic() < deadline:
            line = process.stdout.readline()
            match = re.search(r"export TOKEN=(plt_\S+)", line)
            token = match.group(1) if match else None
        assert token, "the demo printed no token"
        head = None
        while head is None and time.monotonic() < deadline:
            try:
                request = urllib.request.Request(
                    f"http://127.0.0.1:{port}/api/v1/ledger/head",
                    headers={"Authorization": f"Bearer {token}"})
                with urllib.request.urlopen(request, timeout=5) as response:
                    head = json.load(response)
            except OSError:
                time.sleep(0.2)
        assert head is not None, "the demo's API never answered"
        assert head["seq"] == 44 and head["count"] == 44
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout:
            process.stdout.close()
        if process.stderr:
            process.stderr.close()
