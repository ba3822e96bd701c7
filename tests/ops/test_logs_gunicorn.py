"""gunicorn as deployed (SPEC §15): with POINTSLEDGER_LOG_FORMAT=json every line it writes, its
own and its access log's, is one JSON object, and each access line carries the request id of
the answer; in text, the access line ends with it."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from ledger.runtime.log_format import JSON, TEXT
from ledger.runtime.request_ids import REQUEST_ID_HEADER
from tests.api.support import ID_NUMBER
from tests.support import TEST_PEPPER

REPOSITORY = Path(__file__).resolve().parents[2]
BINARIES = Path(sys.executable).parent
STARTUP_TIMEOUT_S = 20


def _environment(tmp_path: Path, log_format: str) -> dict[str, str]:
    inherited = {name: value for name, value in os.environ.items()
                 if not name.startswith("POINTSLEDGER_")}
    return {**inherited, "POINTSLEDGER_DATABASE_URL": f"sqlite:///{tmp_path}/ledger.sqlite3",
            "POINTSLEDGER_RESIDENT_PEPPER": TEST_PEPPER, "POINTSLEDGER_LOG_FORMAT": log_format}


def _get(url: str, headers: dict[str, str]) -> str:
    """The answer's X-Request-Id."""
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return str(response.headers[REQUEST_ID_HEADER])
    except urllib.error.HTTPError as error:
        with error:
            return str(error.headers[REQUEST_ID_HEADER])


def _served(tmp_path: Path, log_format: str, asked: list[dict[str, str]]) -> tuple[list[str], str]:
    """The request ids answered to `asked` (the headers of GETs whose path holds an ID number,
    answered 401), and everything gunicorn wrote."""
    environment = _environment(tmp_path, log_format)
    subprocess.run([str(BINARIES / "pointsledger"), "db", "upgrade"], cwd=tmp_path,
                   env=environment, check=True, capture_output=True)
    port = _free_port()
    server = subprocess.Popen(
        [str(BINARIES / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", "1",
         "--access-logfile", "-", "--logger-class",
         "ledger.api.gunicorn_logging.RedactingLogger", "--chdir", str(REPOSITORY), "wsgi:app"],
        cwd=tmp_path, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        _started(server, port)
        answered = [_get(f"http://127.0.0.1:{port}/api/v1/residents/{ID_NUMBER}", headers)
                    for headers in asked]
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=10)
    return answered, output.decode()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _started(server: subprocess.Popen[bytes], port: int) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while True:
        try:
            _get(f"http://127.0.0.1:{port}/healthz", {})
            return
        except OSError:
            assert server.poll() is None, "gunicorn stopped"
            assert time.monotonic() < deadline, "gunicorn did not start"
            time.sleep(0.1)


ASKED = [{}, {REQUEST_ID_HEADER: "branch-7.counter_2"}, {REQUEST_ID_HEADER: ID_NUMBER}]


@pytest.mark.parametrize("log_format", [JSON, TEXT])
def test_gunicorn_logs_in_the_format_asked_with_the_request_id_of_each_answer(
        tmp_path: Path, log_format: str) -> None:
    answered, output = _served(tmp_path, log_format, ASKED)
    assert answered[1] == "branch-7.counter_2"
    assert answered[2] != ID_NUMBER and answered[0] != answered[2]
    assert ID_NUMBER not in output
    lines = [line for line in output.split("\n") if line]
    if log_format == JSON:
        documents = [json.loads(line) for line in lines]
        assert {"gunicorn.error", "gunicorn.access"} <= {line["logger"] for line in documents}
        assert all({"ts", "level", "logger", "msg"} <= line.keys() for line in documents)
        access = [line for line in documents if line["logger"] == "gunicorn.access"
                  and "/api/v1/residents/" in line["msg"]]
        assert [line["request_id"] for line in access] == answered
        assert all("/api/v1/residents/110105********" in line["msg"] for line in access)
        assert {(line["method"], line["status"]) for line in access} == {("GET", 401)}
        assert all(line["duration_ms"] >= 0 for line in access)
    else:
        access = [line for line in lines if "/api/v1/residents/" in line]
        assert [line.rpartition(" request_id=")[2] for line in access] == answered


def test_gunicorn_refuses_a_bad_log_format_naming_the_variable(tmp_path: Path) -> None:
    completed = subprocess.run(
        [str(BINARIES / "gunicorn"), "--bind", f"127.0.0.1:{_free_port()}", "--logger-class",
         "ledger.api.gunicorn_logging.RedactingLogger", "--chdir", str(REPOSITORY), "wsgi:app"],
        cwd=tmp_path, env=_environment(tmp_path, "yaml"), capture_output=True, text=True,
        timeout=STARTUP_TIMEOUT_S)
    assert completed.returncode != 0
    assert "error: POINTSLEDGER_LOG_FORMAT must be text or json, not 'yaml'" in completed.stderr
