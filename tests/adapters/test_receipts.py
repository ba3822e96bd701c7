"""Each adapter keeps its platform's receipts (SPEC §14): for every event it published, the first
checkpoint of the ledger that includes it and a verified inclusion proof, so that a township can
show that the bank recorded what it sent, and evidence when the ledger shows two histories.

The ledger's API is tests/adapters/fake_ledger_api.py (a real HTTP server), which can be made to
misbehave; tests/adapters/test_receipts_from_the_ledger.py asks the real one.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from adapters.base.outbox.database import Outbox
from adapters.base.receipt_collector import LedgerForked, ReceiptCollector
from ledger.contract.checkpoint import Checkpoint, open_checkpoint, sign_checkpoint
from ledger.contract.merkle import verify_inclusion
from ledger.contract.note_keys import Signer, Verifier
from tests.adapters.fake_ledger_api import FakeLedger, serving
from tests.adapters.receipts_support import (
    ASK_INTERVAL_S,
    PLATFORM,
    PUBLISHED_AT,
    Monotonic,
    collector_of,
    publish,
    receipts_status,
)

COLLECTOR_LOG = "adapters.base.receipt_collector"
BOTH_DATABASES = pytest.mark.parametrize("outbox", ["sqlite", "postgresql"], indirect=True)


@pytest.fixture
def outbox(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Outbox]:
    """A SQLite outbox, or a PostgreSQL one where a test is parametrized with BOTH_DATABASES."""
    url = f"sqlite:///{tmp_path / 'outbox.sqlite3'}" \
        if getattr(request, "param", "sqlite") == "sqlite" \
        else str(request.getfixturevalue("postgres_url"))
    box = Outbox(url, PLATFORM, clock=lambda: PUBLISHED_AT)
    yield box
    box.close()


@pytest.fixture
def ledger() -> FakeLedger:
    return FakeLedger(PLATFORM)


@pytest.fixture
def api_url(ledger: FakeLedger) -> Iterator[str]:
    with serving(ledger) as url:
        yield url


@pytest.fixture
def monotonic() -> Monotonic:
    return Monotonic()


@pytest.fixture
def collector(outbox: Outbox, ledger: FakeLedger, api_url: str,
              monotonic: Monotonic) -> ReceiptCollector:
    return collector_of(outbox, ledger, api_url, monotonic)


def errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records
            if record.name == COLLECTOR_LOG and record.levelno >= logging.ERROR]



@BOTH_DATABASES
def test_published_events_get_receipts_that_verify_with_the_log_key_alone(
        outbox: Outbox, ledger: FakeLedger, collector: ReceiptCollector,
        resident_id: str) -> None:
    events = publish(outbox, resident_id, 3)
    ledger.record("other:1", b"{}", platform="other")  # the ledger's seqs are not the outbox's
    for event in events:
        ledger.record(event.event_id, event.body)
    ledger.sign_checkpoint()

    assert collector.collect() == 3

    log_key = Verifier.from_vkey(ledger.vkey)
    for event in events:
        receipt = outbox.receipts.receipt(event.seq)
        assert receipt is not None
        assert (receipt.event_id, receipt.ledger_seq) == (event.event_id, event.seq + 1)
        assert receipt.leaf_hash == ledger.leaves[receipt.ledger_seq - 1]
        checkpoint, _note = open_checkpoint(receipt.checkpoint, ledger.signer.name, log_key)
        assert checkpoint.size == receipt.tree_size == 4
        verify_inclusion(receipt.ledger_seq - 1, receipt.tree_size, receipt.leaf_hash,
                         receipt.proof_hashes, checkpoint.root_hash)
    assert receipts_status(outbox) == {
        "proven": 3, "unproven": 0, "rejected": 0, "oldest_unproven": None,
        "latest_checkpoint_size": 4, "inconsistent": None}


@BOTH_DATABASES
def test_an_event_not_yet_checkpointed_stays_unproven_and_is_shown_as_the_oldest(
        outbox: Outbox, ledger: FakeLedger, collector: ReceiptCollector, monotonic: Monotonic,
        resident_id: str) -> None:
    first, second, third = publish(outbox, resident_id, 3)
    ledger.record(first.event_id, first.body)
    ledger.record(second.event_id, second.body)
    first_checkpoint = ledger.sign_checkpoint()
    ledger.record(third.event_id, third.body)

    assert collector.collect() == 2
    assert collector.collect() == 0

    assert receipts_status(outbox) == {
        "proven": 2, "unproven": 1, "rejected": 0,
        "oldest_unproven": {"event_id": third.event_id, "seq": 3,
                            "published_at": PUBLISHED_AT.isoformat()},
        "latest_checkpoint_size": 2, "inconsistent": None}
    # Asked once, however many rounds, until the interval is over.
    assert sum(path.endswith(f"{third.event_id}/proof") for path in ledger.asked) == 1

    ledger.sign_checkpoint()
    monotonic.now += ASK_INTERVAL_S
    assert collector.collect() == 1
    status = receipts_status(outbox)
    assert (status["proven"], status["unproven"], status["oldest_unproven"]) == (3, 0, None)
    assert status["latest_checkpoint_size"] == 3
    # A receipt stays as it was first kept: the first checkpoint that included the event.
    first_receipt = outbox.receipts.receipt(first.seq)
    assert first_receipt is not None and first_receipt.checkpoint == first_checkpoint


def test_a_published_event_the_ledger_has_not_seen_is_unproven_and_asked_about_less_often(
        outbox: Outbox, ledger: FakeLedger, collector: ReceiptCollector, monotonic: Monotonic,
        resident_id: str) -> None:
    lost, kept = publish(outbox, resident_id, 2)
    ledger.record(kept.event_id, kept.body)
    ledger.sign_checkpoint()

    assert collector.collect() == 0  # the round ends at the event the ledger lacks…
    monotonic.now += 1
    assert collector.collect() == 1  # …and the next goes past it while it waits
    asked = []
    for _ in range(3):
        monotonic.now += ASK_INTERVAL_S
        collector.collect()
        asked.append(sum(path.endswith(f"{lost.event_id}/proof") for path in ledger.asked))

    assert asked == [2, 2, 3]  # after 30 s, then after 60 s
    status = receipts_status(outbox)
    assert (status["proven"], status["unproven"]) == (1, 1)
    assert status["oldest_unproven"]["event_id"] == lost.event_id


@BOTH_DATABASES
def test_an_event_the_ledger_rejected_is_counted_as_rejected_not_unproven(
        outbox: Outbox, ledger: FakeLedger, collector: ReceiptCollector,
        resident_id: str) -> None:
    rejected, recorded = publish(outbox, resident_id, 2)
    ledger.reject(rejected.event_id, "bad_signature")
    ledger.record(recorded.event_id, recorded.body)
    ledger.sign_checkpoint()

    assert collector.collect() == 1

    status = receipts_status(outbox)
    assert (status["proven"], status["rejected"], status["unproven"]) == (1, 1, 0)
    assert status["oldest_unproven"] is None
    asked = len(ledger.asked)
    collector.collect()
    assert len(ledger.asked) == asked  # settled: never asked about again


def _wrong_hash(_ledger: FakeLedger, document: dict[str, Any]) -> dict[str, Any]:
    return {**document, "hashes": ["00" * 32, *document["hashes"][1:]]}


def _wrong_size(_ledger: FakeLedger, document: dict[str, Any]) -> dict[str, Any]:
    return {**document, "tree_size": document["tree_size"] + 1}


def _wrong_index(_ledger: FakeLedger, document: dict[str, Any]) -> dict[str, Any]:
    return {**document, "leaf_index": 0}


def _another_key(_ledger: FakeLedger, document: dict[str, Any]) -> dict[str, Any]:
    forger = Signer(FakeLedger(PLATFORM).signer.name, Ed25519PrivateKey.generate())
    checkpoint = Checkpoint.parse(document["checkpoint"].split("\n\n")[0] + "\n")
    return {**document, "checkpoint": sign_checkpoint(checkpoint, forger)}


def _first_events_proof(ledger: FakeLedger, _document: dict[str, Any]) -> dict[str, Any]:
    """A proof that verifies, of another event's entry."""
    (first_event_id,) = (event_id for event_id, seq in ledger.seq_of.items() if seq == 1)
    return ledger.proof_of(first_event_id)


@pytest.mark.parametrize(("tamper", "said"), [
    (_wrong_hash, "the inclusion proof does not verify"),
    (_wrong_size, "is not the size 2 of its checkpoint"),
    (_wrong_index, "its leaf index 0 is not seq 2 - 1"),
    (_another_key, "its checkpoint does not open with the log key"),
    (_first_events_proof, "it names the entry at seq 1, which is the ledger's entry of event "
                          "'lijiayuan:R1'"),
])
def test_a_proof_that_does_not_verify_is_not_kept_and_is_logged(
        tamper: Any, said: str, outbox: Outbox, ledger: FakeLedger,
        collector: ReceiptCollector, resident_id: str,
        caplog: pytest.LogCaptureFixture) -> None:
    first, second = publish(outbox, resident_id, 2)
    ledger.record(first.event_id, first.body)
    ledger.record(second.event_id, second.body)
    ledger.sign_checkpoint()
    ledger.tamper = lambda document: tamper(ledger, document) if document["seq"] == 2 \
        else document

    assert collector.collect() == 1

    assert outbox.receipts.receipt(second.seq) is None
    (line,) = errors(caplog)
    assert f"proof of event '{second.event_id}' does not verify" in line
    assert said in line
    status = receipts_status(outbox)
    assert (status["proven"], status["unproven"]) == (1, 1)
    assert status["oldest_unproven"]["event_id"] == second.event_id


@pytest.mark.parametrize("document", [
    {"seq": "2"}, {"seq": 2, "leaf_index": 1, "tree_size": 2, "leaf_hash": "zz" * 32,
                   "hashes": [], "checkpoint": "x"},
    {"seq": 2, "leaf_index": 1, "tree_size": 2, "leaf_hash": "00" * 32,
     "hashes": ["00" * 32] * 65, "checkpoint": "x"},
])
def test_an_answer_that_is_not_the_promised_document_is_not_kept_and_is_logged(
        document: dict[str, Any], outbox: Outbox, ledger: FakeLedger,
        collector: ReceiptCollector, resident_id: str,
        caplog: pytest.LogCaptureFixture) -> None:
    (event,) = publish(outbox, resident_id, 1)
    ledger.record(event.event_id, event.body)
    ledger.sign_checkpoint()
    ledger.tamper = lambda _document: document

    assert collector.collect() == 0

    (line,) = errors(caplog)
    assert f"answer about event '{event.event_id}' is not what its API promises" in line
    assert receipts_status(outbox)["unproven"] == 1


@BOTH_DATABASES
def test_checkpoints_that_contradict_each_other_are_kept_logged_and_shown(
        outbox: Outbox, ledger: FakeLedger, collector: ReceiptCollector,
        resident_id: str, caplog: pytest.LogCaptureFixture) -> None:
    first, second = publish(outbox, resident_id, 2)
    ledger.record(first.event_id, first.body)
    ledger.record(second.event_id, second.body)
    kept = ledger.sign_checkpoint()
    assert collector.collect() == 2
    ledger.rewrite(1, b"history as the bank now tells it")
    (third,) = publish(outbox, resident_id, 1, first=3)
    ledger.record(third.event_id, third.body)
    shown = ledger.sign_checkpoint()

    with pytest.raises(LedgerForked):
        collector.collect()

    sentence = "the ledger showed inconsistent checkpoints: sizes 2 and 3"
    assert receipts_status(outbox)["inconsistent"] == sentence
    assert receipts_status(outbox)["latest_checkpoint_size"] == 2
    assert outbox.receipts.receipt(third.seq) is None
    (evidence,) = outbox.receipts.inconsistencies()
    assert (evidence.kept_checkpoint, evidence.shown_checkpoint) == (kept, shown)
    (line,) = errors(caplog)
    assert sentence in line


def test_two_checkpoints_of_one_size_with_two_roots_are_inconsistent(
        outbox: Outbox, ledger: FakeLedger, collector: ReceiptCollector,
        resident_id: str) -> None:
    (first,) = publish(outbox, resident_id, 1)
    ledger.record(first.event_id, first.body)
    ledger.record("other:1", b"{}", platform="other")
    ledger.sign_checkpoint()
    assert collector.collect() == 1
    ledger.rewrite(2, b"another entry at seq 2")
    ledger.sign_checkpoint()
    (second,) = publish(outbox, resident_id, 1, first=2)
    ledger.seq_of[second.event_id] = 2  # the rewritten entry, claimed for the second event

    with pytest.raises(LedgerForked):
        collector.collect()

    assert receipts_status(outbox)["inconsistent"] == \
        "the ledger showed inconsistent checkpoints: sizes 2 and 2"


def test_an_older_checkpoint_of_the_same_history_is_no_inconsistency(
        outbox: Outbox, ledger: FakeLedger, collector: ReceiptCollector,
        resident_id: str) -> None:
    """A replica of the ledger's API a little behind shows an older checkpoint: a prefix of
    the kept one, which stays kept."""
    first, second = publish(outbox, resident_id, 2)
    ledger.record(first.event_id, first.body)
    older = ledger.sign_checkpoint()
    ledger.record("other:1", b"{}", platform="other")
    ledger.record(second.event_id, second.body)
    ledger.sign_checkpoint()
    ledger.tamper = lambda document: document if document["seq"] == 3 else {
        **document, "tree_size": 1, "hashes": [], "checkpoint": older}

    assert collector.collect() == 2

    status = receipts_status(outbox)
    assert (status["proven"], status["inconsistent"]) == (2, None)
    assert status["latest_checkpoint_size"] == 3
