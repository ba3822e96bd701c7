"""SPEC §14, witnesses: for each new checkpoint of each log the ledger asks every registered
witness to cosign it (C2SP tlog-witness), with the consistency proof from the size that witness
last cosigned, follows a witness that holds another size it signed, says so when a witness holds
a history it never signed, keeps only cosignatures that verify, and never lets a witness that is
down delay the signing.

The witness here is `FakeWitness`, a real HTTP server that checks what the spec has a witness
check (the log's signature, the old size, the consistency proof). Most tests use only its URL
and vkey (the `witness` fixture), so `pointsledger witness serve` can stand in for it; those
that look at what it was sent (`accepted`, `taken`) or make it misbehave say so.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import select

from ledger.bootstrap import Ledger
from ledger.contract.checkpoint import Checkpoint, open_checkpoint, sign_checkpoint
from ledger.contract.cosignature import CosignatureVerifier
from ledger.contract.note_keys import Verifier
from ledger.contract.witness_protocol import add_checkpoint_request
from ledger.infra.db.models import CheckpointRow, Witness, WitnessCosignature
from ledger.infra.db.tree_store import AUDIT_LOG, LEDGER_LOG
from ledger.infra.witness_client import WitnessClient
from ledger.service.checkpoints import (
    LOGS,
    CheckpointPolicy,
    latest_checkpoint,
    log_origin,
    log_signer,
    published_note,
)
from ledger.service.witnesses import add_witness
from ledger.service.witnessing import WitnessTarget
from ledger.worker.checkpointer import Checkpointer
from ledger.worker.witness_asking import STOP_JOIN_S, AskingPolicy, WitnessAsker
from tests.ledger.helpers import invoke
from tests.support import PlatformFixture
from tests.worker.fake_witness import FakeWitness, new_witness_key

ALWAYS = CheckpointPolicy(interval_s=0, poll_s=0)
# Backing off is shown with short waits; `AT_ONCE` asks again at every round.
QUICK = AskingPolicy(poll_s=0.05, timeout_s=2.0, backoff_first_s=0.1, backoff_max_s=0.4)
AT_ONCE = AskingPolicy(poll_s=0.05, timeout_s=2.0, backoff_first_s=0.0, backoff_max_s=0.0)
WAIT_S = 15.0
WITNESS_TIMEOUT_S = 2.0


def log_vkeys(ledger: Ledger) -> list[str]:
    """The verifier keys of both logs: what a witness is configured with."""
    return [log_signer(ledger.settings.log_origin, name, ledger.ledger_key()).vkey()
            for name in LOGS]


@pytest.fixture
def witness(ledger: Ledger) -> Iterator[FakeWitness]:
    """A witness of both logs, serving on its own port (its `url` and `vkey` are what the
    ledger is given of it)."""
    fake = FakeWitness(log_vkeys(ledger))
    yield fake
    fake.close()


def register(ledger: Ledger, name: str, url: str, vkey: str) -> None:
    with ledger.sessions.begin() as session:
        add_witness(session, "test", name, url, vkey, ledger.clock())


def record(ledger: Ledger, platform: PlatformFixture, count: int) -> None:
    outcomes = ledger.ingestor.ingest([platform.delivery() for _ in range(count)])
    assert all(outcome.status.value == "recorded" for outcome in outcomes)


def sign(ledger: Ledger) -> CheckpointRow:
    """Sign what grew; the ledger log's latest checkpoint."""
    Checkpointer(ledger, ALWAYS).sign_due()
    with ledger.sessions() as session:
        latest = latest_checkpoint(session, LEDGER_LOG)
    assert latest is not None
    return latest


def asker(ledger: Ledger, name: str, policy: AskingPolicy = AT_ONCE) -> WitnessAsker:
    with ledger.sessions() as session:
        target = WitnessTarget.of(session.get_one(Witness, name))
    return WitnessAsker(ledger, target, policy, Checkpointer(ledger, ALWAYS).stop)


def cosigned_sizes(ledger: Ledger, name: str, log: str = LEDGER_LOG) -> list[int]:
    with ledger.sessions() as session:
        return list(session.scalars(
            select(CheckpointRow.size)
            .join(WitnessCosignature, WitnessCosignature.checkpoint_id == CheckpointRow.id)
            .where(WitnessCosignature.witness == name, CheckpointRow.log == log)
            .order_by(CheckpointRow.size)))


def origin(ledger: Ledger, log: str = LEDGER_LOG) -> str:
    return log_origin(ledger.settings.log_origin, log)


def forged_checkpoint(ledger: Ledger, size: int) -> str:
    """A checkpoint of `size` under the ledger's key that this database never signed: what a
    database restored from a backup, or a second history, would have shown a witness."""
    signer = log_signer(ledger.settings.log_origin, LEDGER_LOG, ledger.ledger_key())
    return sign_checkpoint(Checkpoint(signer.name, size, os.urandom(32)), signer)


def messages(caplog: pytest.LogCaptureFixture, level: int, text: str) -> list[str]:
    return [record.getMessage() for record in caplog.records
            if record.levelno == level and text in record.getMessage()]


def wait_for(condition: Callable[[], bool], what: str, timeout_s: float = WAIT_S) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


@contextmanager
def running(checkpointer: Checkpointer) -> Iterator[threading.Thread]:
    """`checkpoints run` in a thread, stopped as SIGTERM stops it."""
    thread = threading.Thread(target=checkpointer.run, name="checkpointer")
    thread.start()
    try:
        yield thread
    finally:
        checkpointer.stop.request()
        thread.join(WAIT_S)
        assert not thread.is_alive(), "the checkpointer did not stop"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_each_new_checkpoint_is_cosigned_from_the_size_the_witness_last_cosigned(
        ledger: Ledger, platform: PlatformFixture, witness: FakeWitness,
        database_url: str) -> None:
    register(ledger, "town", witness.url, witness.vkey)
    record(ledger, platform, 3)
    sign(ledger)
    town = asker(ledger, "town")
    town.ask_round()
    assert cosigned_sizes(ledger, "town") == [3]
    record(ledger, platform, 4)
    sign(ledger)
    town.ask_round()
    assert cosigned_sizes(ledger, "town") == [3, 7]
    # Two checkpoints behind: asked about the latest only, from the last size it cosigned.
    for _ in range(2):
        record(ledger, platform, 1)
        sign(ledger)
    town.ask_round()
    assert cosigned_sizes(ledger, "town") == [3, 7, 9]
    # What the witness took: from 0 with no proof, then proofs it checked from its last size.
    assert witness.accepted(origin(ledger)) == [(0, 3), (3, 7), (7, 9)]
    assert [t.proof_hashes > 0 for t in witness.taken if t.origin == origin(ledger)] == [
        False, True, True]
    # The audit trail is a log of its own, cosigned the same way (registering was audited).
    assert cosigned_sizes(ledger, "town", AUDIT_LOG) != []

    with ledger.sessions() as session:
        latest = latest_checkpoint(session, LEDGER_LOG)
        assert latest is not None
        note = published_note(session, latest)
    log_key = Verifier.from_vkey(log_vkeys(ledger)[0])
    checkpoint, opened = open_checkpoint(note, origin(ledger), log_key,
                                         [CosignatureVerifier.from_vkey(witness.vkey)])
    assert checkpoint.size == 9
    assert witness.signer.name in {signature.name for signature in opened.signatures}
    listed = invoke(database_url, "witnesses", "list")
    assert f"town\tledger\t{witness.url}\tsize 9" in listed.output


def test_a_witness_that_holds_another_size_the_ledger_signed_is_followed(
        ledger: Ledger, platform: PlatformFixture, witness: FakeWitness) -> None:
    record(ledger, platform, 3)
    first = sign(ledger)
    # The witness cosigned size 3 through another channel: the ledger holds no cosignature.
    answer = WitnessClient().add_checkpoint(witness.url,
                                            add_checkpoint_request(0, (), first.note))
    assert answer.status == 200
    register(ledger, "town", witness.url, witness.vkey)
    record(ledger, platform, 2)
    sign(ledger)
    asker(ledger, "town").ask_round()
    assert cosigned_sizes(ledger, "town") == [5]
    assert [(t.old_size, t.size, t.status) for t in witness.taken
            if t.origin == origin(ledger)] == [(0, 3, 200), (0, 5, 409), (3, 5, 200)]


def test_a_witness_that_holds_a_size_the_ledger_never_signed_is_reported_once(
        ledger: Ledger, platform: PlatformFixture, witness: FakeWitness,
        caplog: pytest.LogCaptureFixture) -> None:
    answer = WitnessClient().add_checkpoint(
        witness.url, add_checkpoint_request(0, (), forged_checkpoint(ledger, 10)))
    assert answer.status == 200
    register(ledger, "town", witness.url, witness.vkey)
    record(ledger, platform, 3)
    sign(ledger)
    town = asker(ledger, "town")
    town.ask_round()
    town.ask_round()
    assert cosigned_sizes(ledger, "town") == []
    (error,) = messages(caplog, logging.ERROR, "witness town")
    assert "cosigned size 10, which this ledger never signed" in error
    assert "a history we did not sign" in error
    # Each round asked once and did not argue on: one request a round.
    assert [(t.old_size, t.status) for t in witness.taken if t.origin == origin(ledger)] == [
        (0, 200), (0, 409), (0, 409)]


def test_a_witness_that_saw_another_checkpoint_of_the_same_size_is_reported(
        ledger: Ledger, platform: PlatformFixture, witness: FakeWitness,
        caplog: pytest.LogCaptureFixture) -> None:
    answer = WitnessClient().add_checkpoint(
        witness.url, add_checkpoint_request(0, (), forged_checkpoint(ledger, 3)))
    assert answer.status == 200
    register(ledger, "town", witness.url, witness.vkey)
    record(ledger, platform, 3)
    sign(ledger)
    asker(ledger, "town").ask_round()
    assert cosigned_sizes(ledger, "town") == []
    (error,) = messages(caplog, logging.ERROR, "witness town")
    assert "size 3 whose root is not the one this ledger signed" in error


def test_a_cosignature_that_does_not_verify_is_not_kept(
        ledger: Ledger, platform: PlatformFixture, witness: FakeWitness,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    register(ledger, "town", witness.url, witness.vkey)
    # The same server registered under another witness's key: its cosignatures are not that
    # witness's, and a log ignores cosignatures by keys it does not know.
    register(ledger, "stranger", witness.url, new_witness_key("witness.test/other").vkey())
    record(ledger, platform, 2)
    sign(ledger)
    witness.tamper = True
    town = asker(ledger, "town")
    town.ask_round()
    asker(ledger, "stranger").ask_round()
    assert cosigned_sizes(ledger, "town") == cosigned_sizes(ledger, "stranger") == []
    assert messages(caplog, logging.WARNING, "witness town did not cosign the ledger log's "
                    "checkpoint of size 2 (asked from size 0): answered 200 with a "
                    "cosignature that does not verify")
    assert messages(caplog, logging.WARNING, "witness stranger did not cosign the ledger log's "
                    "checkpoint of size 2")
    assert messages(caplog, logging.WARNING, "with no cosignature by its key "
                    "witness.test/other+")
    # Once it signs properly, the witness (which holds size 2 now) is followed and kept.
    witness.tamper = False
    town.ask_round()
    assert cosigned_sizes(ledger, "town") == [2]


def test_a_witness_that_fails_is_said_and_backed_off(
        ledger: Ledger, platform: PlatformFixture, witness: FakeWitness,
        caplog: pytest.LogCaptureFixture) -> None:
    assert [QUICK.backoff_s(n) for n in range(1, 6)] == [0.1, 0.2, 0.4, 0.4, 0.4]
    assert [AskingPolicy(1).backoff_s(n) for n in (1, 2, 6, 7, 100)] == [1, 2, 32, 60, 60]
    register(ledger, "away", f"http://127.0.0.1:{free_port()}", witness.vkey)
    # A URL the witness does not serve: it answers 404 with a line saying so.
    register(ledger, "lost", witness.url + "/nowhere", witness.vkey)
    record(ledger, platform, 1)
    sign(ledger)
    away = asker(ledger, "away", AskingPolicy(poll_s=1, backoff_first_s=30))
    away.ask_round()
    away.ask_round()  # backing off: not asked again
    (refused,) = messages(caplog, logging.WARNING, "witness away did not cosign the ledger log")
    assert "no answer: connection refused; asking again in 30 s" in refused
    asker(ledger, "lost").ask_round()
    (lost,) = messages(caplog, logging.WARNING, "witness lost did not cosign the ledger log")
    assert "answered 404 Not Found: not here" in lost


def test_a_witness_that_is_down_delays_no_signing_and_catches_up(
        ledger: Ledger, platform: PlatformFixture, witness: FakeWitness,
        caplog: pytest.LogCaptureFixture) -> None:
    away_port = free_port()
    away_key = new_witness_key("witness.test/away")
    register(ledger, "away", f"http://127.0.0.1:{away_port}", away_key.vkey())
    # The other one answers far beyond the ledger's patience (WITNESS_TIMEOUT_S).
    witness.hang_s = 60
    register(ledger, "slow", witness.url, witness.vkey)
    checkpointer = Checkpointer(ledger, CheckpointPolicy(interval_s=0, poll_s=0.05),
                                asking=AskingPolicy(poll_s=0.05, timeout_s=WITNESS_TIMEOUT_S,
                                                    backoff_first_s=0.1, backoff_max_s=0.4))
    with running(checkpointer):
        for size in (2, 4, 6):
            record(ledger, platform, 2)
            started = time.monotonic()
            wait_for(lambda size=size: sign_size(ledger) == size,
                     f"the checkpoint of size {size}")
            assert time.monotonic() - started < WITNESS_TIMEOUT_S / 2, \
                "signing waited for a witness"
        wait_for(lambda: bool(messages(caplog, logging.WARNING, "no answer: timed out")),
                 "the slow witness to time out")
        assert cosigned_sizes(ledger, "away") == cosigned_sizes(ledger, "slow") == []
        back = FakeWitness(log_vkeys(ledger), away_key, port=away_port)
        try:
            witness.stop_hanging()
            wait_for(lambda: cosigned_sizes(ledger, "away") == [6]
                     and cosigned_sizes(ledger, "slow") == [6], "both to cosign size 6")
        finally:
            back.close()
    assert messages(caplog, logging.WARNING, "witness away did not cosign the ledger log's "
                    "checkpoint of size")
    # Back, the witness was asked about the latest checkpoint only.
    assert back.accepted(origin(ledger)) == [(0, 6)]


def sign_size(ledger: Ledger) -> int:
    with ledger.sessions() as session:
        latest = latest_checkpoint(session, LEDGER_LOG)
    return 0 if latest is None else latest.size


def test_the_checkpointer_stops_promptly_while_a_witness_keeps_it_waiting(
        ledger: Ledger, platform: PlatformFixture, witness: FakeWitness) -> None:
    witness.hang_s = 60
    register(ledger, "slow", witness.url, witness.vkey)
    checkpointer = Checkpointer(ledger, CheckpointPolicy(interval_s=0, poll_s=0.05),
                                asking=AskingPolicy(poll_s=0.05, timeout_s=60))
    thread = threading.Thread(target=checkpointer.run)
    thread.start()
    record(ledger, platform, 1)
    wait_for(lambda: witness.arrived >= 1, "the witness to be asked")
    started = time.monotonic()
    checkpointer.stop.request()
    thread.join(WAIT_S)
    assert not thread.is_alive()
    assert time.monotonic() - started < STOP_JOIN_S + 1.5
    witness.stop_hanging()  # its answer, come after the stop, is not kept
    time.sleep(0.3)
    assert cosigned_sizes(ledger, "slow") == []
