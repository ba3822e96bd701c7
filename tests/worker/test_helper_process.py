"""The helper process as the worker sees it: answers in the order asked, and a helper that ends
fails every future it had not answered, at once, instead of leaving it to a timeout."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ledger.domain.keyring import Keyring
from ledger.domain.verification import Delivery
from ledger.worker.helper_process import HelperEnded, HelperProcess
from ledger.worker.wire import decode_verdicts, encode_request

WAIT_S = 30.0
NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def request(count: int) -> tuple[bytes, list[Delivery]]:
    deliveries = [Delivery(b'{"event_id": "e-%d"}' % index, {}, "amqp") for index in range(count)]
    return encode_request(deliveries, Keyring({}), NOW, 300), deliveries


def test_answers_come_back_to_the_future_of_their_own_request() -> None:
    helper = HelperProcess()
    try:
        sent = [request(count) for count in (1, 700, 3)]
        futures = [helper.submit(encoded) for encoded, _ in sent]

        answers = [future.result(WAIT_S) for future in futures]
    finally:
        helper.close(WAIT_S)
    assert [len(decode_verdicts(answer, deliveries))
            for answer, (_, deliveries) in zip(answers, sent, strict=True)] == [1, 700, 3]


def test_a_helper_that_died_fails_its_unanswered_futures_at_once() -> None:
    helper = HelperProcess()
    try:
        os.kill(helper.pid, signal.SIGSTOP)
        future = helper.submit(request(2000)[0])  # more than a pipe holds: the writer waits
        os.kill(helper.pid, signal.SIGKILL)

        started = time.monotonic()
        with pytest.raises(HelperEnded):
            future.result(WAIT_S)
        assert time.monotonic() - started < 5
        with pytest.raises(HelperEnded):
            helper.submit(request(1)[0])
    finally:
        helper.kill()
    assert not Path(f"/proc/{helper.pid}").exists()


def test_a_cancelled_request_is_never_sent() -> None:
    helper = HelperProcess()
    try:
        os.kill(helper.pid, signal.SIGSTOP)
        first, second = helper.submit(request(2000)[0]), helper.submit(request(1)[0])
        assert second.cancel()
        os.kill(helper.pid, signal.SIGCONT)

        assert first.result(WAIT_S)
        assert second.cancelled()
    finally:
        helper.close(WAIT_S)


def test_the_helper_ends_when_its_worker_is_killed() -> None:
    """Its stdin closes with the worker: no helper is left behind by a SIGKILL."""
    with subprocess.Popen(
            [sys.executable, "-c", "import time; from ledger.worker.helper_process import "
             "HelperProcess; print(HelperProcess().pid, flush=True); time.sleep(60)"],
            stdout=subprocess.PIPE, text=True) as worker:
        assert worker.stdout is not None
        helper_pid = int(worker.stdout.readline())
        worker.kill()

    deadline = time.monotonic() + WAIT_S
    while _running(helper_pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _running(helper_pid)


def _running(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status
