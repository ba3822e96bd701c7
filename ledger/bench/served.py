"""The processes `bench console` times against: the console under gunicorn (`wsgi:app`, with the
workers and limits of docker-compose.yml) on a free local port, and `pointsledger consume`;
both on the scratch database, stopped with SIGTERM at the end as a deployment stops them."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import ledger
from ledger.bench.ingest import CONSUMER_COMMAND, BenchFailed, BenchRefused
from ledger.settings import Settings

WORKERS = 4
LOCALHOST = "127.0.0.1"
READY_PATH = "/readyz"
READY_TIMEOUT_S = 60.0
READY_POLL_S = 0.2
STOP_TIMEOUT_S = 60.0
LOG_TAIL_CHARS = 2000
WSGI_FILE = "wsgi.py"


def wsgi_directory() -> Path:
    """Where `wsgi.py` is: the working directory (as in the image), else the checkout the
    `ledger` package comes from."""
    for directory in (Path.cwd(), Path(ledger.__file__).resolve().parents[1]):
        if (directory / WSGI_FILE).is_file():
            return directory
    raise BenchRefused("bench console serves wsgi:app with gunicorn: run it from the directory "
                       "that holds wsgi.py")


def environment(settings: Settings) -> dict[str, str]:
    """The environment of both processes: the scratch database, the broker, the same pepper,
    ledger key and log as the bench's own set-up."""
    assert settings.amqp_url is not None
    return {**os.environ, "POINTSLEDGER_DATABASE_URL": settings.database_url,
            "POINTSLEDGER_AMQP_URL": settings.amqp_url,
            "POINTSLEDGER_RESIDENT_PEPPER": settings.resident_pepper,
            "POINTSLEDGER_LOG_ORIGIN": settings.log_origin,
            "POINTSLEDGER_LEDGER_KEY_FILE": str(settings.ledger_key_file.resolve())}


@contextmanager
def gunicorn(settings: Settings, directory: Path) -> Iterator[str]:
    """The app under gunicorn; its base URL once it answers."""
    port = _free_port()
    command = [sys.executable, "-m", "gunicorn", "--bind", f"{LOCALHOST}:{port}",
               "--workers", str(WORKERS), "--timeout", "30", "--graceful-timeout", "20",
               "--limit-request-line", "2048", "--limit-request-fields", "50",
               "--limit-request-field_size", "8190",
               "--logger-class", "ledger.api.gunicorn_logging.RedactingLogger",
               "--chdir", str(directory), "wsgi:app"]
    with _process("gunicorn", command, environment(settings)) as (process, log):
        base_url = f"http://{LOCALHOST}:{port}"
        _wait_until_ready(process, base_url, log)
        yield base_url


@contextmanager
def consumer(settings: Settings) -> Iterator[subprocess.Popen[bytes]]:
    """`pointsledger consume` on the scratch database."""
    command = [sys.executable, *CONSUMER_COMMAND]
    with _process("the consumer", command, environment(settings)) as (process, _log):
        yield process


def require_running(process: subprocess.Popen[bytes], name: str) -> None:
    if process.poll() is not None:
        raise BenchFailed(f"{name} exited with code {process.returncode} during the run")


@contextmanager
def _process(name: str, command: list[str], env: dict[str, str]
             ) -> Iterator[tuple[subprocess.Popen[bytes], IO[str]]]:
    with tempfile.TemporaryFile("w+", encoding="utf-8") as log:
        process = subprocess.Popen(  # noqa: S603 (our own interpreter and modules)
            command, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            yield process, log
            _stop(name, process, log)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()


def _stop(name: str, process: subprocess.Popen[bytes], log: IO[str]) -> None:
    if process.poll() is not None:
        raise BenchFailed(f"{name} exited with code {process.returncode} before the end: "
                          f"{_tail(log)}")
    process.send_signal(signal.SIGTERM)
    try:
        code = process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise BenchFailed(f"{name} did not stop within {STOP_TIMEOUT_S:.0f} s of SIGTERM"
                          ) from None
    if code != 0:
        raise BenchFailed(f"{name} exited with code {code} on SIGTERM: {_tail(log)}")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOCALHOST, 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_until_ready(process: subprocess.Popen[bytes], base_url: str, log: IO[str]) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BenchFailed(f"gunicorn exited with code {process.returncode}: {_tail(log)}")
        try:
            with urllib.request.urlopen(base_url + READY_PATH,  # noqa: S310 (http://127.0.0.1)
                                        timeout=READY_POLL_S * 10) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(READY_POLL_S)
    raise BenchFailed(f"gunicorn did not answer {READY_PATH} within {READY_TIMEOUT_S:.0f} s: "
                      f"{_tail(log)}")


def _tail(log: IO[str]) -> str:
    log.flush()
    log.seek(0)
    return log.read()[-LOG_TAIL_CHARS:].strip() or "(no output)"
