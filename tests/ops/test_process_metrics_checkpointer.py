"""`pointsledger checkpoints run --metrics-listen`: the largest ledger checkpoint each witness
cosigned, set as the cosignature is recorded and, when the process starts, from what the
database already holds (so the gauge does not wait for the log to grow)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from prometheus_client import REGISTRY

from ledger.bootstrap import Ledger
from ledger.infra.db.models import Witness
from ledger.runtime.metrics import WITNESS_COSIGNED_SIZE
from ledger.runtime.stopping import StopRequest
from ledger.service.checkpoints import CheckpointPolicy
from ledger.service.witnesses import add_witness
from ledger.service.witnessing import WitnessTarget
from ledger.worker.checkpointer import Checkpointer
from ledger.worker.witness_asking import AskingPolicy, WitnessAsker
from tests.support import PlatformFixture
from tests.worker.fake_witness import FakeWitness
from tests.worker.test_witness_asking import log_vkeys

NAME = "metrics-town"
AT_ONCE = AskingPolicy(poll_s=0.05, timeout_s=2.0, backoff_first_s=0.0, backoff_max_s=0.0)
ALWAYS = CheckpointPolicy(interval_s=0, poll_s=0)


@pytest.fixture
def registered_witness(ledger: Ledger) -> Iterator[WitnessTarget]:
    fake = FakeWitness(log_vkeys(ledger))
    with ledger.sessions.begin() as session:
        add_witness(session, "test", NAME, fake.url, fake.vkey, ledger.clock())
    with ledger.sessions() as session:
        target = WitnessTarget.of(session.get_one(Witness, NAME))
    yield target
    fake.close()


def cosigned_size_exported() -> float | None:
    return REGISTRY.get_sample_value("pointsledger_witness_cosigned_size", {"witness": NAME})


def grow_and_sign(ledger: Ledger, platform: PlatformFixture, count: int) -> None:
    ledger.ingestor.ingest([platform.delivery() for _ in range(count)])
    Checkpointer(ledger, ALWAYS).sign_due()


def test_the_cosigned_size_is_exported_as_recorded_and_again_at_start(
        ledger: Ledger, platform: PlatformFixture, registered_witness: WitnessTarget) -> None:
    asker = WitnessAsker(ledger, registered_witness, AT_ONCE, StopRequest())
    grow_and_sign(ledger, platform, 3)
    asker.ask_round()
    assert cosigned_size_exported() == 3
    grow_and_sign(ledger, platform, 2)
    asker.ask_round()
    assert cosigned_size_exported() == 5

    # A new process: nothing exported until its asking thread starts, then what was cosigned.
    WITNESS_COSIGNED_SIZE.remove(NAME)
    assert cosigned_size_exported() is None
    stopped = StopRequest()
    stopped.request()
    WitnessAsker(ledger, registered_witness, AT_ONCE, stopped).run()
    assert cosigned_size_exported() == 5
