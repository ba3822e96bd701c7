"""The stage-one helper process verifies exactly as the Ingestor does, or steps aside: when it
died mid-batch, when it is wedged, and whenever it cannot answer, the Ingestor verifies."""

from __future__ import annotations

import base64
import os
import queue
import signal
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.bootstrap import Ledger, build
from ledger.contract.signing import EventSigner, event_body
from ledger.domain.outcomes import Reason
from ledger.domain.verification import Delivery
from ledger.service import registry
from ledger.worker import verifying
from ledger.worker.batches import BATCHES_IN_HAND_MAX
from ledger.worker.verifying import StageOneAhead
from ledger.worker.wire import Verified
from tests.conftest import make_settings
from tests.support import register_platform


@pytest.fixture
def embedded_ledger(sqlite_url: str, tmp_path: Path) -> Iterator[Ledger]:
    built = build(make_settings(sqlite_url, tmp_path=tmp_path))
    yield built
    built.close()


@pytest.fixture
def stage_one(embedded_ledger: Ledger) -> Iterator[StageOneAhead]:
    helper = StageOneAhead(embedded_ledger.ingestor, embedded_ledger.clock, 300)
    yield helper
    helper.close()


def _deliveries(ledger: Ledger) -> list[Delivery]:
    platform = register_platform(ledger.sessions)
    forger = EventSigner(Ed25519PrivateKey.generate())
    forged = forger.sign(platform.event())
    return [
        *(platform.delivery(channel="amqp") for _ in range(5)),
        Delivery(forged.body, forged.headers, "amqp"),
        Delivery(b'{"event_id": ', {}, "amqp"),
        Delivery(platform.signed(platform.event()).body, {}, "amqp"),
    ]


def test_the_helper_gives_the_verdicts_the_ingestor_would(
        embedded_ledger: Ledger, stage_one: StageOneAhead) -> None:
    deliveries = _deliveries(embedded_ledger)

    verdicts = stage_one.result(stage_one.submit(deliveries))

    assert verdicts == embedded_ledger.ingestor.verify(deliveries)


def _hostile(ledger: Ledger) -> list[Delivery]:
    """Absurd timestamps (signed and not), headers of every shape, bytes that are no JSON, and a
    key of each revocation kind in the keyring the helper is sent."""
    platform = register_platform(ledger.sessions)
    now = datetime.now(UTC)
    with ledger.sessions.begin() as session:
        _, retired = registry.generate_key(session, platform.code, now)
        registry.revoke_key(session, retired.key_id, now)
        _, leaked = registry.generate_key(session, platform.code, now)
        registry.revoke_key(session, leaked.key_id, now, compromised=True)
    hostile = []
    for stamp in ("999999999999", "253402300800", "-1", "1.5e9", "9" * 400, "\x00", "０"):
        event = platform.event()
        body = event_body(event)
        content = f"{event['event_id']}.{stamp}.".encode() + body
        hostile.append(Delivery(body, {
            "webhook-id": event["event_id"], "webhook-timestamp": stamp,
            "webhook-signature": "v1a," + base64.b64encode(
                platform.private_key.sign(content)).decode()}, "amqp"))
    hostile += [Delivery(bytes(range(256)), {"webhook-timestamp": "999999999999"}, "amqp"),
                Delivery(b"\xff" * 10, {}, "amqp"), platform.delivery(channel="amqp")]
    return hostile


def test_hostile_input_never_takes_the_helper_down(
        embedded_ledger: Ledger, stage_one: StageOneAhead) -> None:
    """Issue 11, defect 2: `webhook-timestamp: 999999999999` killed the helper ("Fatal Python
    error") and the consumer verified in-process for a minute."""
    hostile = _hostile(embedded_ledger)
    stage_one.start()
    pid = stage_one.helper_pid

    verdicts = stage_one.result(stage_one.submit(hostile))

    assert verdicts == embedded_ledger.ingestor.verify(hostile)
    assert [getattr(verdict, "reason", None) for verdict in verdicts[:7]] == [
        Reason.TIMESTAMP_SKEW] * 7
    assert stage_one.helper_pid == pid, "the same helper answers the next batch"
    assert stage_one.result(stage_one.submit(hostile)) == verdicts


def test_two_batches_ahead_are_answered_in_order_even_when_larger_than_a_pipe(
        embedded_ledger: Ledger, stage_one: StageOneAhead) -> None:
    """Each request is far above the 64 KiB a pipe holds: neither side may wait for the other."""
    platform = register_platform(embedded_ledger.sessions)
    first = [platform.delivery(channel="amqp") for _ in range(1500)]
    second = [platform.delivery(channel="amqp") for _ in range(1500)]

    first_ahead, second_ahead = stage_one.submit(first), stage_one.submit(second)

    assert stage_one.result(first_ahead) == embedded_ledger.ingestor.verify(first)
    assert stage_one.result(second_ahead) == embedded_ledger.ingestor.verify(second)


def test_batches_submitted_by_one_thread_while_another_collects_get_their_own_verdicts(
        embedded_ledger: Ledger, stage_one: StageOneAhead) -> None:
    """The consumer's broker thread submits while its append thread waits for answers."""
    platform = register_platform(embedded_ledger.sessions)
    batches = [[platform.delivery(channel="amqp") for _ in range(300)] for _ in range(8)]
    submitted: queue.Queue[verifying.Ahead | None] = queue.Queue()
    # Submitted and not yet answered: at most as many as the worker's batches in hand.
    room = threading.Semaphore(BATCHES_IN_HAND_MAX)
    answers: list[Verified | None] = []

    def collect() -> None:
        for _ in batches:
            answers.append(stage_one.result(submitted.get(timeout=30)))
            room.release()

    collector = threading.Thread(target=collect)
    collector.start()
    for batch in batches:
        assert room.acquire(timeout=30)
        submitted.put(stage_one.submit(batch))
    collector.join(timeout=60)

    assert not collector.is_alive()
    assert answers == [embedded_ledger.ingestor.verify(batch) for batch in batches]


def test_a_batch_beyond_the_most_outstanding_drops_the_oldest_one(
        embedded_ledger: Ledger, stage_one: StageOneAhead) -> None:
    deliveries = _deliveries(embedded_ledger)
    parts = [deliveries[index:index + 2]
             for index in range(0, 2 * (BATCHES_IN_HAND_MAX + 1), 2)]
    assert all(parts)
    submitted = [stage_one.submit(part) for part in parts]

    assert stage_one.result(submitted[0]) is None  # dropped: the Ingestor verifies it itself
    for ahead, part in zip(submitted[1:], parts[1:], strict=True):
        assert stage_one.result(ahead) == embedded_ledger.ingestor.verify(part)


def test_batches_asked_for_out_of_order_each_get_their_own_verdicts(
        embedded_ledger: Ledger, stage_one: StageOneAhead) -> None:
    deliveries = _deliveries(embedded_ledger)
    earlier, later = stage_one.submit(deliveries[:4]), stage_one.submit(deliveries[4:])

    assert stage_one.result(later) == embedded_ledger.ingestor.verify(deliveries[4:])
    assert stage_one.result(earlier) == embedded_ledger.ingestor.verify(deliveries[:4])
    # Each batch is answered once.
    assert stage_one.result(earlier) is None


def test_a_helper_that_died_mid_batch_leaves_the_verifying_to_the_ingestor(
        embedded_ledger: Ledger, stage_one: StageOneAhead) -> None:
    platform = register_platform(embedded_ledger.sessions)
    deliveries = [platform.delivery(channel="amqp") for _ in range(1500)]
    stage_one.start()
    pid = stage_one.helper_pid
    assert pid is not None
    ahead = stage_one.submit(deliveries)
    assert ahead is not None
    os.kill(pid, signal.SIGKILL)

    assert stage_one.result(ahead) is None  # HelperEnded: the Ingestor verifies it
    assert stage_one.submit(deliveries) is None  # in-process for a while, not a restart loop
    assert stage_one.helper_pid is None
    assert not Path(f"/proc/{pid}").exists()


def test_closing_ends_the_helper(stage_one: StageOneAhead) -> None:
    stage_one.start()
    pid = stage_one.helper_pid
    assert pid is not None
    stage_one.close()
    assert stage_one.helper_pid is None
    assert not Path(f"/proc/{pid}").exists()


def test_a_wedged_helper_does_not_wedge_the_consumer(
        embedded_ledger: Ledger, stage_one: StageOneAhead,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A stopped helper takes no more of a request than the pipe holds, and answers nothing:
    no answer within RESULT_TIMEOUT_S, and the helper is killed."""
    monkeypatch.setattr(verifying, "RESULT_TIMEOUT_S", 0.5)
    monkeypatch.setattr(verifying, "HELPER_EXIT_TIMEOUT_S", 0.5)
    platform = register_platform(embedded_ledger.sessions)
    deliveries = [platform.delivery(channel="amqp") for _ in range(1500)]
    stage_one.start()

    pid = stage_one.helper_pid
    assert pid is not None
    os.kill(pid, signal.SIGSTOP)

    started = time.monotonic()
    ahead = stage_one.submit(deliveries)
    assert stage_one.result(ahead) is None
    assert time.monotonic() - started < 5
    assert stage_one.helper_pid is None  # given up on (and killed): verified in-process for now
    assert not Path(f"/proc/{pid}").exists()
