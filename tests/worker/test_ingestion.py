"""A batch's append under faults, without a database: an outage keeps the batch unacked and is
retried (and said once), a stop gives it up for redelivery, a poison message is returned on its
own while the rest of its batch is recorded, and a lost consumer lock appends nothing."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

import pytest
from sqlalchemy.exc import OperationalError

from ledger.domain.outcomes import Outcome, Status
from ledger.domain.verification import Delivery
from ledger.infra.db.locks import ConsumerLockLost
from ledger.worker.batches import Received
from ledger.worker.ingestion import BatchIngestion, database_unavailable

OUTAGE = OperationalError("SELECT 1", {}, ConnectionRefusedError("the database is down"))


class FakeIngestor:
    """Records each append; `fault(ids)` says what, if anything, an append of them raises."""

    def __init__(self, fault: Callable[[list[str]], Exception | None]) -> None:
        self.fault = fault
        self.appended: list[list[str]] = []
        self.attempts = 0

    def ingest(self, deliveries: Sequence[Delivery], *, verified: object = None,
               guard: object = None) -> list[Outcome]:
        self.attempts += 1
        ids = [delivery.headers["webhook-id"] for delivery in deliveries]
        error = self.fault(ids)
        if error is not None:
            raise error
        self.appended.append(ids)
        return [Outcome(Status.RECORDED, "recorded", "lijiayuan", event_id) for event_id in ids]


def messages(count: int, first_tag: int = 1) -> list[Received]:
    return [Received(tag, Delivery(b"{}", {"webhook-id": f"event-{tag}"}, "amqp"), f"m-{tag}")
            for tag in range(first_tag, first_tag + count)]


def pauses(answer: bool = True) -> tuple[Callable[[float], bool], list[float]]:
    taken: list[float] = []

    def pause(delay_s: float) -> bool:
        taken.append(delay_s)
        return answer
    return pause, taken


def failing_times(count: int, error: Exception = OUTAGE) -> Callable[[list[str]], Exception | None]:
    left = [count]

    def fault(_ids: list[str]) -> Exception | None:
        left[0] -= 1
        return error if left[0] >= 0 else None
    return fault


def test_a_committed_batch_is_settled_whole() -> None:
    ingestor = FakeIngestor(lambda _ids: None)
    pause, _ = pauses()

    settlement = BatchIngestion(ingestor, pause).ingest(messages(4), None)

    assert settlement.all_committed and not settlement.left_unacked
    assert settlement.outcomes[Status.RECORDED] == 4


def test_a_database_outage_is_waited_out_with_the_batch_unacked_and_said_once(
        caplog: pytest.LogCaptureFixture) -> None:
    ingestor = FakeIngestor(failing_times(3))
    pause, taken = pauses()
    ingestion = BatchIngestion(ingestor, pause)
    caplog.set_level(logging.INFO, logger="ledger.worker.ingestion")

    settlement = ingestion.ingest(messages(4), None)
    ingestion.ingest(messages(2, first_tag=5), None)

    assert settlement.all_committed
    assert ingestor.appended == [[f"event-{tag}" for tag in range(1, 5)], ["event-5", "event-6"]]
    assert len(taken) == 3
    said = [record.getMessage() for record in caplog.records]
    assert len(said) == 2
    assert said[0].startswith("the database is unavailable (OperationalError)")
    assert said[1].startswith("the database is available again after ")


def test_a_stop_during_an_outage_gives_the_batch_up_unacked(
        caplog: pytest.LogCaptureFixture) -> None:
    ingestor = FakeIngestor(failing_times(100))
    pause, _ = pauses(answer=False)

    settlement = BatchIngestion(ingestor, pause).ingest(messages(4), None)

    assert not settlement.all_committed and not settlement.acks and not settlement.nacks
    assert settlement.left_unacked
    assert ingestor.appended == []
    assert "giving up during a database outage: 4 messages stay unacked" in caplog.text


def test_a_poison_message_is_returned_alone_and_the_rest_of_its_batch_recorded() -> None:
    ingestor = FakeIngestor(lambda ids: RuntimeError("a bug") if "event-3" in ids else None)
    pause, _ = pauses()

    settlement = BatchIngestion(ingestor, pause).ingest(messages(5), None)

    assert not settlement.all_committed
    assert settlement.acks == [1, 2, 4, 5]
    assert settlement.nacks == [3]
    assert not settlement.left_unacked
    assert ingestor.appended == [["event-1"], ["event-2"], ["event-4"], ["event-5"]]


def test_a_poison_message_alone_is_returned_to_the_queue() -> None:
    ingestor = FakeIngestor(lambda _ids: RuntimeError("a bug"))
    pause, _ = pauses()

    settlement = BatchIngestion(ingestor, pause).ingest(messages(1), None)

    assert settlement.nacks == [1] and settlement.acks == []


def test_a_stop_during_an_outage_one_by_one_leaves_the_rest_unacked() -> None:
    def fault(ids: list[str]) -> Exception | None:
        if len(ids) > 1:
            return RuntimeError("a bug somewhere")
        return OUTAGE if ids == ["event-3"] else None
    pause, _ = pauses(answer=False)

    settlement = BatchIngestion(FakeIngestor(fault), pause).ingest(
        messages(5), None)

    assert settlement.acks == [1, 2] and settlement.nacks == []
    assert settlement.left_unacked  # 3 to 5: delivered again


@pytest.mark.parametrize("batch_size", [1, 4])
def test_a_lost_consumer_lock_appends_nothing_and_reaches_the_worker(batch_size: int) -> None:
    ingestor = FakeIngestor(lambda _ids: ConsumerLockLost("another consumer holds the ledger"))
    pause, _ = pauses()

    with pytest.raises(ConsumerLockLost):
        BatchIngestion(ingestor, pause).ingest(messages(batch_size), None)
    assert ingestor.appended == []


def test_only_an_unreachable_database_is_an_outage() -> None:
    assert database_unavailable(OUTAGE)
    assert not database_unavailable(RuntimeError("a bug"))
