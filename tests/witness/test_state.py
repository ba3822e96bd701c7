"""What the witness keeps in its state directory: it survives a restart, a failed write leaves
the old checkpoint, and racing requests (threads, or two processes on one directory) never
both pass the check against the same last size."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from http import HTTPStatus
from pathlib import Path

import pytest

from ledger.contract.checkpoint import open_checkpoint
from ledger.contract.witness_protocol import parse_size_body
from ledger.witness.decision import Cosigned, log_keys
from ledger.witness.service import Witness
from ledger.witness.state import LogStates, StateUnusable
from tests.witness.support import LEAVES, ORIGIN, Log, new_log, new_witness_key, witness_verifier

WITNESS = new_witness_key()
REPOSITORY = Path(__file__).resolve().parents[2]
LOCK_WAIT_S = 10


@pytest.fixture
def log() -> Log:
    return new_log()


def witness_of(log: Log, directory: Path) -> Witness:
    logs = log_keys([log.vkey])
    return Witness(WITNESS, logs, LogStates(directory, logs))


def test_what_was_cosigned_survives_a_restart(log: Log, tmp_path: Path) -> None:
    assert witness_of(log, tmp_path).add_checkpoint(log.request(0, 8)).status == HTTPStatus.OK
    restarted = witness_of(log, tmp_path)
    answer = restarted.add_checkpoint(log.request(0, 12))
    assert (answer.status, parse_size_body(answer.body)) == (HTTPStatus.CONFLICT, 8)
    assert restarted.add_checkpoint(log.request(8, 12)).status == HTTPStatus.OK


def test_the_state_file_is_the_checkpoint_with_the_log_and_witness_signatures(
        log: Log, tmp_path: Path) -> None:
    witness_of(log, tmp_path).add_checkpoint(log.request(0, 8))
    (state_file,) = tmp_path.glob("*.checkpoint")
    assert state_file.stat().st_mode & 0o777 == 0o600
    checkpoint, note = open_checkpoint(state_file.read_text(), ORIGIN, log.verifier(),
                                       [witness_verifier(WITNESS)])
    assert (checkpoint.size, checkpoint.root_hash) == (8, log.root(8))
    assert len(note.signatures) == 2


@pytest.mark.parametrize("failing", ["replace", "fsync", "write"])
def test_a_failed_write_keeps_the_old_checkpoint_and_cosigns_nothing(
        log: Log, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing: str) -> None:
    witness = witness_of(log, tmp_path)
    witness.add_checkpoint(log.request(0, 8))
    before = {path.name: path.read_bytes() for path in tmp_path.iterdir()}

    def crash(*_arguments: object, **_keywords: object) -> None:
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as patch:
        patch.setattr(f"ledger.runtime.atomic_file.os.{failing}", crash)
        answer = witness.add_checkpoint(log.request(8, 12))
    assert answer.status == HTTPStatus.INTERNAL_SERVER_ERROR
    assert b"cosignature" not in answer.body and b"\xe2\x80\x94" not in answer.body
    assert {path.name: path.read_bytes() for path in tmp_path.iterdir()} == before
    assert witness.states.cosigned(ORIGIN) == Cosigned(8, log.root(8))
    # Once the disk is back, the log's retry from the size kept is cosigned.
    assert witness.add_checkpoint(log.request(8, 12)).status == HTTPStatus.OK


def test_a_corrupt_state_file_stops_the_witness_from_starting(log: Log, tmp_path: Path) -> None:
    witness_of(log, tmp_path).add_checkpoint(log.request(0, 8))
    (state_file,) = tmp_path.glob("*.checkpoint")
    state_file.write_text("example.org/ledger\n8\n")
    with pytest.raises(StateUnusable, match="not a checkpoint"):
        witness_of(log, tmp_path)


def test_an_unwritable_state_directory_stops_the_witness_from_starting(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    with pytest.raises(StateUnusable, match="cannot be written"):
        LogStates(tmp_path / "file" / "state", [ORIGIN])


def test_of_racing_requests_from_one_old_size_exactly_one_is_cosigned(
        log: Log, tmp_path: Path) -> None:
    witness = witness_of(log, tmp_path)
    sizes = range(1, LEAVES + 1)
    start = threading.Barrier(len(sizes))

    def submit(size: int) -> tuple[HTTPStatus, bytes]:
        body = log.request(0, size)
        start.wait()
        answer = witness.add_checkpoint(body)
        return answer.status, answer.body

    with ThreadPoolExecutor(max_workers=len(sizes)) as pool:
        answers = dict(zip(sizes, pool.map(submit, sizes), strict=True))
    statuses = Counter(status for status, _ in answers.values())
    assert statuses == {HTTPStatus.OK: 1, HTTPStatus.CONFLICT: len(sizes) - 1}
    (won,) = [size for size, (status, _) in answers.items() if status == HTTPStatus.OK]
    assert witness.states.cosigned(ORIGIN) == Cosigned(won, log.root(won))
    assert {parse_size_body(body) for status, body in answers.values()
            if status == HTTPStatus.CONFLICT} == {won}


def test_two_witnesses_on_one_directory_each_read_what_the_other_kept(
        log: Log, tmp_path: Path) -> None:
    first, second = witness_of(log, tmp_path), witness_of(log, tmp_path)
    assert first.add_checkpoint(log.request(0, 8)).status == HTTPStatus.OK
    assert second.add_checkpoint(log.request(8, 12)).status == HTTPStatus.OK
    answer = first.add_checkpoint(log.request(8, 10))
    assert (answer.status, parse_size_body(answer.body)) == (HTTPStatus.CONFLICT, 12)


HOLD_THE_LOCK = """
import sys
from pathlib import Path
from ledger.witness.state import LogStates
states = LogStates(Path(sys.argv[1]), [sys.argv[2]])
with states.locked(sys.argv[2]):
    print("locked", flush=True)
    sys.stdin.readline()
"""


def test_another_process_holding_a_log_keeps_this_one_waiting(tmp_path: Path) -> None:
    states = LogStates(tmp_path, [ORIGIN])
    environment = {**os.environ, "PYTHONPATH": str(REPOSITORY)}
    other = subprocess.Popen([sys.executable, "-c", HOLD_THE_LOCK, str(tmp_path), ORIGIN],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                             env=environment)
    assert other.stdin is not None and other.stdout is not None
    try:
        assert other.stdout.readline() == "locked\n"
        acquired = threading.Event()

        def take() -> None:
            with states.locked(ORIGIN):
                acquired.set()

        taker = threading.Thread(target=take)
        taker.start()
        assert not acquired.wait(0.5)
        other.stdin.write("\n")
        other.stdin.flush()
        assert acquired.wait(LOCK_WAIT_S)
        taker.join()
        assert other.wait(LOCK_WAIT_S) == 0
    finally:
        if other.poll() is None:
            other.kill()
            other.wait()
        other.stdin.close()
        other.stdout.close()
