"""The stage-one helper process verifies exactly as the Ingestor does, or steps aside."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.bootstrap import Ledger, build
from ledger.contract.signing import EventSigner
from ledger.infra.amqp.stage_one import StageOneAhead
from ledger.service.verification import Delivery
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


def test_a_helper_that_died_leaves_the_verifying_to_the_ingestor(
        embedded_ledger: Ledger, stage_one: StageOneAhead) -> None:
    deliveries = _deliveries(embedded_ledger)
    ticket = stage_one.submit(deliveries)
    assert ticket is not None and stage_one.helper_pid is not None
    os.kill(stage_one.helper_pid, signal.SIGKILL)

    assert stage_one.result(ticket) is None
    assert stage_one.submit(deliveries) is None  # in-process for a while, not a restart loop
    assert stage_one.helper_pid is None


def test_closing_ends_the_helper(stage_one: StageOneAhead) -> None:
    stage_one.start()
    pid = stage_one.helper_pid
    assert pid is not None
    stage_one.close()
    assert stage_one.helper_pid is None
    assert not Path(f"/proc/{pid}").exists()
