"""`pointsledger serve` and `wsgi:app`: the API as an operator starts it (its access lines
redacted and carrying the request ids of the answers)."""

from __future__ import annotations

import json
import os
import runpy
import select
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from ledger.cli.serve import READ_TIMEOUT_S, development_server
from ledger.contract.personal_data import mask_id_numbers
from ledger.runtime.log_format import JSON, TEXT
from ledger.runtime.request_ids import REQUEST_ID_HEADER
from tests.api.support import ID_NUMBER, Tokens, bearer
from tests.support import TEST_PEPPER

REPOSITORY = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT_S = 20
# How long a raw client waits for the development server to answer and hang up.
CLIENT_WAIT_S = READ_TIMEOUT_S * 3


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


# What a careless client puts in request lines: an ID number where the pseudonym goes, alone
# and next to a letter, and its token in the query string or in a path.
SECRET_TOKEN = "plt_" + "S3cr3t-t0ken_" * 3
CARELESS_PATHS = (f"/api/v1/residents/{ID_NUMBER}", f"/api/v1/residents/a{ID_NUMBER}/entries",
                  f"/api/v1/ledger/head?access_token={SECRET_TOKEN}",
                  f"/api/v1/ledger/head?limit=1&token=not-even-ours-{TEST_PEPPER}",
                  f"/api/v1/{SECRET_TOKEN}")


def _served_log(command: list[str], port: int, tmp_path: Path) -> str:
    """What the server logged while a careless client sent CARELESS_PATHS (401s and 404s)."""
    server = subprocess.Popen(command, cwd=tmp_path, env=_environment(tmp_path),
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        _started(server, port)
        for path in CARELESS_PATHS:
            status, _ = _get(f"http://127.0.0.1:{port}{path}")
            assert status in (401, 404), path
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=10)
    return output.decode()


def _assert_nothing_careless_is_logged(log: str) -> None:
    assert f"/api/v1/residents/{mask_id_numbers(ID_NUMBER)} " in log
    assert f"/api/v1/residents/a{mask_id_numbers(ID_NUMBER)}/entries " in log
    assert "/api/v1/ledger/head?access_token=[token] " in log
    assert "/api/v1/ledger/head?limit=1&token=[token] " in log
    assert "GET /api/v1/[token] " in log
    for secret in (ID_NUMBER, SECRET_TOKEN, "S3cr3t", TEST_PEPPER):
        assert secret not in log


def test_serve_answers_on_the_given_port_and_keeps_secrets_out_of_its_log(
        tmp_path: Path) -> None:
    port = _free_port()
    log = _served_log([sys.executable, "-c", "from ledger.cli.main import main; main()",
                       "serve", "--host", "127.0.0.1", "--port", str(port)], port, tmp_path)
    _assert_nothing_careless_is_logged(log)


def test_gunicorn_as_deployed_keeps_secrets_out_of_its_access_log(tmp_path: Path) -> None:
    subprocess.run([str(Path(sys.executable).parent / "pointsledger"), "db", "upgrade"],
                   cwd=tmp_path, env=_environment(tmp_path), check=True, capture_output=True)
    port = _free_port()
    log = _served_log([str(Path(sys.executable).parent / "gunicorn"), "--bind",
                       f"127.0.0.1:{port}", "--workers", "1", "--access-logfile", "-",
                       "--logger-class", "ledger.api.gunicorn_logging.RedactingLogger",
                       "--chdir", str(REPOSITORY), "wsgi:app"], port, tmp_path)
    _assert_nothing_careless_is_logged(log)


def _answered_request_id(url: str, headers: dict[str, str]) -> str:
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers),
                                timeout=5) as response:
        request_id: str = response.headers[REQUEST_ID_HEADER]
        return request_id


@pytest.mark.parametrize("log_format", [TEXT, JSON])
def test_serves_access_lines_carry_the_request_id_of_the_answer(tmp_path: Path,
                                                                log_format: str) -> None:
    """werkzeug writes its access line after the request has left the app: the line carries
    the id the answer did, whether the client named the request or not."""
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-c", "from ledger.cli.main import main; main()",
         "serve", "--host", "127.0.0.1", "--port", str(port)], cwd=tmp_path,
        env={**_environment(tmp_path), "POINTSLEDGER_LOG_FORMAT": log_format},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        _started(server, port)
        url = f"http://127.0.0.1:{port}/readyz"
        expected = [_answered_request_id(url, {REQUEST_ID_HEADER: "counter-7.42"}),
                    _answered_request_id(url, {})]
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=10)
    assert expected[0] == "counter-7.42" and len(expected[1]) == 32
    access_line = '"GET /readyz HTTP/1.1" 200'
    if log_format == JSON:
        events = [json.loads(line) for line in output.decode().splitlines() if line[:1] == "{"]
        assert [event["request_id"] for event in events
                if access_line in event["msg"]] == expected
    else:
        lines = [line for line in output.decode().splitlines() if access_line in line]
        assert [line.split(" werkzeug request_id=")[1].split(":")[0] for line in lines] == expected


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


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """The development server is the embedded mode's: SQLite."""
    return sqlite_url


@pytest.fixture
def dev_server_port(app: Flask) -> Iterator[int]:
    """`pointsledger serve`'s server, on a free port in this process."""
    server = development_server(app, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.socket.getsockname()[1])
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def _request_head(method: str, path: str, content_length: int,
                  headers: dict[str, str] | None = None) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/json",
             f"Content-Length: {content_length}",
             *(f"{name}: {value}" for name, value in (headers or {}).items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _answer_until_closed(client: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection; fails if it never does."""
    received = b""
    try:
        while chunk := client.recv(65536):
            received += chunk
    except TimeoutError:
        pytest.fail(f"the connection is still open after {CLIENT_WAIT_S} s; got {received!r}")
    return received


def _head_of_answer(client: socket.socket) -> bytes:
    received = b""
    while b"\r\n\r\n" not in received:
        chunk = client.recv(65536)
        assert chunk, f"closed before answering; got {received!r}"
        received += chunk
    return received


def _hung_up_while_sending(client: socket.socket) -> bool:
    """Go on sending the body slowly, as an upload on a poor line would, until the server hangs
    up (True) or CLIENT_WAIT_S pass (False)."""
    deadline = time.monotonic() + CLIENT_WAIT_S
    try:
        while time.monotonic() < deadline:
            client.sendall(b" " * 1024)
            readable, _, _ = select.select([client], [], [], 0.05)
            if readable and client.recv(65536) == b"":
                return True
    except (BrokenPipeError, ConnectionResetError):
        return True
    return False


def test_the_development_server_hangs_up_after_refusing_a_body_too_large(
        dev_server_port: int, tokens: Tokens) -> None:
    """A client that announces 50 MB gets its 413 and a closed connection, even while it goes
    on sending: the server does not read (or wait for) what it already refused."""
    with socket.create_connection(("127.0.0.1", dev_server_port),
                                  timeout=CLIENT_WAIT_S) as client:
        client.sendall(_request_head("POST", "/api/v1/residents/lookup", 50_000_000,
                                     bearer(tokens.by_role["teller"])))
        client.sendall(b"{" + b" " * 100_000)
        assert _head_of_answer(client).startswith(b"HTTP/1.1 413 ")
        assert _hung_up_while_sending(client)


def test_the_development_server_stops_waiting_for_a_body_shorter_than_announced(
        dev_server_port: int) -> None:
    with socket.create_connection(("127.0.0.1", dev_server_port),
                                  timeout=CLIENT_WAIT_S) as client:
        client.sendall(_request_head("POST", "/api/v1/events", 1000) + b'{"event_id": ')
        started = time.monotonic()
        answer = _answer_until_closed(client)
    assert answer.startswith(b"HTTP/1.1 400 ")
    assert time.monotonic() - started >= READ_TIMEOUT_S - 1
