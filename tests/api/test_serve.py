"""`pointsledger serve` and `wsgi:app`: the API as an operator starts it."""

from __future__ import annotations

import json
import os
import runpy
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from flask import Flask

from tests.api.support import ID_NUMBER
from tests.support import TEST_PEPPER

REPOSITORY = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT_S = 20


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _environment(tmp_path: Path) -> dict[str, str]:
    """The embedded mode on a fresh SQLite file, whatever this shell has configured."""
    inherited = {name: value for name, value in os.environ.items()
                 if not name.startswith("POINTSLEDGER_")}
    return {**inherited, "POINTSLEDGER_DATABASE_URL": f"sqlite:///{tmp_path}/ledger.sqlite3",
            "POINTSLEDGER_RESIDENT_PEPPER": TEST_PEPPER}


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def _started(server: subprocess.Popen[bytes], port: int) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while True:
        try:
            status, body = _get(f"http://127.0.0.1:{port}/healthz")
            break
        except OSError:
            assert server.poll() is None, server.stderr.read() if server.stderr else ""
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.1)
    assert (status, json.loads(body)) == (200, {"status": "ok"})


def _served_log(command: list[str], port: int, tmp_path: Path) -> str:
    """What the server logged while a client put an ID number in a path (and got a 401)."""
    server = subprocess.Popen(command, cwd=tmp_path, env=_environment(tmp_path),
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        _started(server, port)
        status, _ = _get(f"http://127.0.0.1:{port}/api/v1/residents/{ID_NUMBER}")
        assert status == 401
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=10)
    return output.decode()


def test_serve_answers_on_the_given_port_and_keeps_id_numbers_out_of_its_log(
        tmp_path: Path) -> None:
    port = _free_port()
    log = _served_log([sys.executable, "-c", "from ledger.cli.main import main; main()",
                       "serve", "--host", "127.0.0.1", "--port", str(port)], port, tmp_path)
    assert "/api/v1/residents/[id-number]" in log
    assert ID_NUMBER not in log


def test_gunicorn_as_deployed_keeps_id_numbers_out_of_its_access_log(tmp_path: Path) -> None:
    subprocess.run([str(Path(sys.executable).parent / "pointsledger"), "db", "upgrade"],
                   cwd=tmp_path, env=_environment(tmp_path), check=True, capture_output=True)
    port = _free_port()
    log = _served_log([str(Path(sys.executable).parent / "gunicorn"), "--bind",
                       f"127.0.0.1:{port}", "--workers", "1", "--access-logfile", "-",
                       "--logger-class", "ledger.api.gunicorn_logging.RedactingLogger",
                       "--chdir", str(REPOSITORY), "wsgi:app"], port, tmp_path)
    assert "GET /api/v1/residents/[id-number]" in log
    assert ID_NUMBER not in log


def test_serve_refuses_a_bad_port() -> None:
    completed = subprocess.run(
        [sys.executable, "-c", "from ledger.cli.main import main; main()",
         "serve", "--port", "70000"], capture_output=True, text=True, timeout=60, check=False)
    assert completed.returncode == 2
    assert "70000" in completed.stderr


def test_wsgi_module_builds_the_app_from_the_environment(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("POINTSLEDGER_AMQP_URL", raising=False)
    for name, value in _environment(tmp_path).items():
        if name.startswith("POINTSLEDGER_"):
            monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    namespace = runpy.run_path(str(REPOSITORY / "wsgi.py"))
    app = namespace["app"]
    assert isinstance(app, Flask)
    assert app.test_client().get("/healthz").status_code == 200
    app.extensions["pointsledger"].close()
