"""When a delivery is acked, nacked or left for redelivery: the rules that decide whether an
event could be lost (acked before its commit) or counted twice (committed and delivered again
after a later batch), on a fake channel, without a broker."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import pytest

from ledger.domain.outcomes import Status
from ledger.domain.verification import Delivery
from ledger.worker.batches import (
    BATCH_SIZE_MAX,
    BATCH_WAIT_S_MAX,
    BATCHES_IN_HAND_MAX,
    PREFETCH_COUNT,
    Batches,
    Plan,
    Received,
    Settlement,
    settle_on,
)

IDLE_S = 0.2


class FakeChannel:
    """Records what the broker is told, as (verb, delivery tag, multiple)."""

    def __init__(self) -> None:
        self.said: list[tuple[str, int, bool]] = []

    def basic_ack(self, delivery_tag: int = 0, multiple: bool = False) -> None:
        self.said.append(("ack", delivery_tag, multiple))

    def basic_nack(self, delivery_tag: int = 0, multiple: bool = False,
                   requeue: bool = True) -> None:
        assert requeue, "a nacked message goes back to the queue (its delivery limit counts)"
        self.said.append(("nack", delivery_tag, multiple))

    def acked(self) -> set[int]:
        """Every delivery tag an ack covers, `multiple` ones included."""
        covered: set[int] = set()
        for verb, tag, multiple in self.said:
            if verb == "ack":
                covered |= set(range(1, tag + 1)) if multiple else {tag}
        return covered


def message(tag: int) -> Received:
    return Received(tag, Delivery(b"{}", {}, "amqp"), f"message-{tag}")


def received(batches: Batches, tags: range, now: float = 0.0) -> None:
    for tag in tags:
        batches.receive(message(tag), now)


def committed(batch: Sequence[Received]) -> Settlement:
    return Settlement(batch, all_committed=True, outcomes=Counter({Status.RECORDED: len(batch)}))


def settle(batches: Batches, channel: FakeChannel, settlement: Settlement) -> Plan:
    plan = batches.settle(settlement)
    settle_on(channel, plan)
    return plan


def test_a_committed_batch_is_acked_with_one_multiple_ack_up_to_its_last_delivery() -> None:
    batches, channel = Batches(), FakeChannel()
    received(batches, range(1, 11))
    batch = batches.cut(BATCH_WAIT_S_MAX)

    settle(batches, channel, committed(batch))

    assert channel.said == [("ack", 10, True)]
    assert channel.acked() == set(range(1, 11))


def test_nothing_is_acked_before_the_append_returned() -> None:
    batches, channel = Batches(), FakeChannel()
    received(batches, range(1, 11))
    batches.cut(BATCH_WAIT_S_MAX)

    assert channel.said == []
    assert batches.in_hand == 1


def test_a_batch_given_up_during_an_outage_leaves_every_delivery_unacked() -> None:
    batches, channel = Batches(), FakeChannel()
    received(batches, range(1, 6))
    batch = batches.cut(BATCH_WAIT_S_MAX)

    plan = settle(batches, channel, Settlement(batch))

    assert plan == Plan()
    assert channel.said == []


def test_after_a_poison_message_the_committed_are_acked_one_by_one_and_the_poison_nacked(
        ) -> None:
    batches, channel = Batches(), FakeChannel()
    received(batches, range(1, 6))
    batch = batches.cut(BATCH_WAIT_S_MAX)

    settle(batches, channel, Settlement(batch, acks=[1, 2, 4, 5], nacks=[3]))

    assert channel.said == [("nack", 3, False), ("ack", 1, False), ("ack", 2, False),
                            ("ack", 4, False), ("ack", 5, False)]
    assert 3 not in channel.acked()


def test_a_delivery_left_unacked_forbids_every_later_multiple_ack_on_the_channel() -> None:
    """A `multiple` ack would ack the delivery given up on: lost, never committed."""
    batches, channel = Batches(), FakeChannel()
    received(batches, range(1, 6))
    first = batches.cut(BATCH_WAIT_S_MAX)
    # Stopped one by one after the second message: 3 to 5 were given up, left unacked.
    settle(batches, channel, Settlement(first, acks=[1, 2]))
    received(batches, range(6, 9), now=1.0)
    second = batches.cut(1.0 + BATCH_WAIT_S_MAX)

    settle(batches, channel, committed(second))

    assert channel.said == [("ack", 1, False), ("ack", 2, False),
                            ("ack", 6, False), ("ack", 7, False), ("ack", 8, False)]
    assert channel.acked().isdisjoint({3, 4, 5})


def test_a_nacked_delivery_does_not_forbid_a_later_multiple_ack() -> None:
    """Nacked is settled: the broker has it back, a later `multiple` ack cannot cover it."""
    batches, channel = Batches(), FakeChannel()
    received(batches, range(1, 4))
    settle(batches, channel, Settlement(batches.cut(BATCH_WAIT_S_MAX), acks=[1, 3], nacks=[2]))
    received(batches, range(4, 7), now=1.0)

    settle(batches, channel, committed(batches.cut(1.0 + BATCH_WAIT_S_MAX)))

    assert channel.said[-1] == ("ack", 6, True)


def test_batches_are_settled_in_the_order_cut() -> None:
    batches = Batches()
    received(batches, range(1, 2 * BATCH_SIZE_MAX + 1))
    first, second = batches.cut(0.0), batches.cut(0.0)

    with pytest.raises(AssertionError, match="in the order cut"):
        batches.settle(committed(second))
    assert first[0].delivery_tag == 1 and second[0].delivery_tag == BATCH_SIZE_MAX + 1


def test_a_multiple_ack_never_covers_a_later_batch_still_in_hand() -> None:
    batches, channel = Batches(), FakeChannel()
    received(batches, range(1, 2 * BATCH_SIZE_MAX + 1))
    first, _second = batches.cut(0.0), batches.cut(0.0)

    settle(batches, channel, committed(first))

    assert channel.acked() == set(range(1, BATCH_SIZE_MAX + 1))
    assert batches.in_hand == 1


def test_a_lost_channel_forgets_its_batches_in_hand_and_acks_nothing_of_them() -> None:
    """Their deliveries come back to the next channel, whose tags start again at 1."""
    batches, channel = Batches(), FakeChannel()
    received(batches, range(1, 6))
    batches.cut(BATCH_WAIT_S_MAX)
    received(batches, range(6, 8), now=1.0)

    batches.forget()

    assert channel.said == []
    assert batches.in_hand == 0 and batches.messages_in_hand == 0
    with pytest.raises(AssertionError, match="no batch in hand"):
        batches.settle(committed([message(1)]))


def test_a_lost_channel_takes_its_gap_with_it() -> None:
    """The next channel's deliveries have nothing unacked before them: `multiple` again."""
    batches, channel = Batches(), FakeChannel()
    received(batches, range(1, 4))
    settle(batches, channel, Settlement(batches.cut(BATCH_WAIT_S_MAX), acks=[1]))
    batches.forget()
    received(batches, range(1, 4), now=1.0)

    settle(batches, channel, committed(batches.cut(1.0 + BATCH_WAIT_S_MAX)))

    assert channel.said[-1] == ("ack", 3, True)


def test_a_batch_is_cut_when_full_or_when_its_first_message_waited_long_enough() -> None:
    batches = Batches()
    received(batches, range(1, 4), now=10.0)
    assert not batches.due(10.0)
    assert batches.wait_s(10.0, IDLE_S) == pytest.approx(BATCH_WAIT_S_MAX)
    assert batches.due(10.0 + BATCH_WAIT_S_MAX)

    full = Batches()
    received(full, range(1, BATCH_SIZE_MAX + 2), now=10.0)
    assert full.due(10.0)
    assert len(full.cut(10.0)) == BATCH_SIZE_MAX
    assert full.messages_in_hand == BATCH_SIZE_MAX + 1


def test_no_more_batches_in_hand_than_the_limit_and_the_prefetch_holds_them() -> None:
    batches = Batches()
    received(batches, range(1, PREFETCH_COUNT + 2))
    for _ in range(BATCHES_IN_HAND_MAX):
        assert batches.due(0.0)
        batches.cut(0.0)

    assert not batches.due(BATCH_WAIT_S_MAX)  # one more message waits for room
    assert batches.wait_s(0.0, IDLE_S) == IDLE_S  # an append ending wakes the wait
    assert PREFETCH_COUNT == BATCHES_IN_HAND_MAX * BATCH_SIZE_MAX


def test_draining_cuts_what_was_received_at_once_and_ends_once_all_is_settled() -> None:
    batches, channel = Batches(), FakeChannel()
    received(batches, range(1, 4), now=10.0)
    batches.begin_drain()
    assert not batches.drained
    assert batches.due(10.0)  # without waiting for more

    batch = batches.cut(10.0)
    assert not batches.drained  # in hand: still appended and acked
    settle(batches, channel, committed(batch))

    assert batches.drained
    assert channel.acked() == {1, 2, 3}
