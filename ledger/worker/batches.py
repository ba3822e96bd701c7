"""When a delivery is acked: the pure core of the ingest worker (SPEC §5).

Deliveries of one channel wait here from their arrival until their ack. They are cut into
batches in the order they arrived; each batch is appended in one transaction, and only once
that transaction is committed does the broker hear about its deliveries, batch by batch in the
order they were cut. These rules decide whether an event can be lost (acked and not committed)
or counted twice (committed, not acked, delivered again: the ingestor's duplicate check then
records it once, but only if no later batch was committed before it):

- A batch is settled only once its append returned, and batches are settled in the order cut.
- A committed batch is acked with one `basic_ack(multiple=True)` up to its last delivery only
  when no earlier delivery of the channel was left unacked: `multiple` would ack that one too.
- A batch retried one message at a time (a poison message) acks what was committed, nacks what
  cannot be appended (requeued, dead-lettered after the delivery limit), and leaves unacked what
  it gave up on; from then on, this channel acks one delivery at a time.
- When the channel is lost, everything in hand is forgotten: nothing of it is acked, and the
  broker delivers it again to the next channel.

Nothing here touches the broker or the database: `settle_on` tells a channel what a plan says.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from ledger.domain.outcomes import Status
from ledger.domain.verification import Delivery

# Each batch costs a few fixed round trips and one commit (fsync) whatever its size; at 1500
# those are a small share, and the messages in hand stay well under the memory target.
BATCH_SIZE_MAX = 1500
# Batches cut and not yet settled: the oldest is appended while the stage-one helper verifies
# the others, so that it still has work while the append waits for the database. The helper
# verifies at most this many batches ahead, for the same reason.
BATCHES_IN_HAND_MAX = 3
# A lone message waits at most this long for others to share its transaction.
BATCH_WAIT_S_MAX = 0.05
# The batches in hand: a fourth batch could not be cut before the oldest is settled anyway.
PREFETCH_COUNT = BATCHES_IN_HAND_MAX * BATCH_SIZE_MAX


@dataclass(frozen=True)
class Received:
    """One message taken from the queue, not yet settled."""

    delivery_tag: int
    delivery: Delivery
    message_id: str | None


@dataclass(frozen=True)
class Settlement:
    """What the append of one batch achieved, once it returned."""

    messages: Sequence[Received]
    # The whole batch is committed.
    all_committed: bool = False
    # Otherwise (retried one by one): the deliveries committed, and those to return to the queue.
    acks: list[int] = field(default_factory=list)
    nacks: list[int] = field(default_factory=list)
    outcomes: Counter[Status] = field(default_factory=Counter)

    @property
    def left_unacked(self) -> bool:
        settled = len(self.messages) if self.all_committed else len(self.acks) + len(self.nacks)
        return settled < len(self.messages)


@dataclass(frozen=True)
class Plan:
    """What to tell the broker about one settled batch: the nacks, then the acks."""

    nacks: tuple[int, ...] = ()
    # One `basic_ack(multiple=True)` up to this delivery tag, instead of `acks`.
    ack_up_to: int | None = None
    acks: tuple[int, ...] = ()


class Channel(Protocol):
    def basic_ack(self, delivery_tag: int = 0, multiple: bool = False) -> None: ...

    def basic_nack(self, delivery_tag: int = 0, multiple: bool = False,
                   requeue: bool = True) -> None: ...


def settle_on(channel: Channel, plan: Plan) -> None:
    for tag in plan.nacks:
        channel.basic_nack(tag, requeue=True)
    if plan.ack_up_to is not None:
        channel.basic_ack(plan.ack_up_to, multiple=True)
    for tag in plan.acks:
        channel.basic_ack(tag)


class Batches:
    """The deliveries of one channel, from their arrival until they are settled.

    Times are the caller's monotonic clock, passed in, so the rules are tested without waiting.
    """

    def __init__(self) -> None:
        self._pending: list[Received] = []
        self._pending_since = 0.0
        # Cut and not yet settled, oldest first.
        self._in_hand: deque[Sequence[Received]] = deque()
        # Some delivery of this channel was left unacked: a `multiple` ack would cover it.
        self._unacked_gap = False
        self.draining = False

    @property
    def in_hand(self) -> int:
        """Batches cut and not yet settled."""
        return len(self._in_hand)

    @property
    def messages_in_hand(self) -> int:
        """Messages received and not yet settled, cut into batches or not."""
        return len(self._pending) + sum(len(batch) for batch in self._in_hand)

    @property
    def pending_since(self) -> float:
        """When the oldest delivery not yet cut into a batch arrived (about)."""
        return self._pending_since

    @property
    def drained(self) -> bool:
        return self.draining and not self._pending and not self._in_hand

    def receive(self, message: Received, now: float) -> None:
        if not self._pending:
            self._pending_since = now
        self._pending.append(message)

    def due(self, now: float) -> bool:
        """A batch can be cut now: one is full, waited long enough or the worker is stopping,
        and there is room in hand for it."""
        if not self._pending or len(self._in_hand) >= BATCHES_IN_HAND_MAX:
            return False
        return (self.draining or len(self._pending) >= BATCH_SIZE_MAX
                or now - self._pending_since >= BATCH_WAIT_S_MAX)

    def cut(self, now: float) -> Sequence[Received]:
        """The next batch, oldest deliveries first; it is in hand until settled."""
        batch = self._pending[:BATCH_SIZE_MAX]
        del self._pending[:BATCH_SIZE_MAX]
        # The rest arrived later than the first one; starting their clock now is close enough.
        self._pending_since = now
        self._in_hand.append(batch)
        return batch

    def wait_s(self, now: float, idle_s: float) -> float:
        """How long the broker thread may wait for data before a batch is due."""
        if self._pending and len(self._in_hand) < BATCHES_IN_HAND_MAX:
            return max(0.0, self._pending_since + BATCH_WAIT_S_MAX - now)
        # Nothing to cut (or no room for it): an append ending wakes the wait.
        return idle_s

    def settle(self, settlement: Settlement) -> Plan:
        """The plan for the oldest batch in hand, whose append returned `settlement`."""
        assert self._in_hand, "a settlement for no batch in hand"
        batch = self._in_hand.popleft()
        assert _same_batch(batch, settlement.messages), "batches are settled in the order cut"
        if settlement.all_committed and not self._unacked_gap:
            # Every earlier delivery of this channel is settled: one frame acks the batch.
            plan = Plan(ack_up_to=batch[-1].delivery_tag)
        elif settlement.all_committed:
            plan = Plan(acks=tuple(message.delivery_tag for message in batch))
        else:
            plan = Plan(nacks=tuple(settlement.nacks), acks=tuple(settlement.acks))
        if settlement.left_unacked:
            self._unacked_gap = True
        return plan

    def begin_drain(self) -> None:
        """No more deliveries: what was received is still cut, appended and acked."""
        self.draining = True

    def forget(self) -> None:
        """The channel is gone: its unacked deliveries go back to whoever consumes next, and
        its delivery tags mean nothing on the next channel."""
        self._pending.clear()
        self._in_hand.clear()
        self._unacked_gap = False
        self.draining = False


def _same_batch(batch: Sequence[Received], messages: Sequence[Received]) -> bool:
    return (len(batch) == len(messages)
            and batch[0].delivery_tag == messages[0].delivery_tag
            and batch[-1].delivery_tag == messages[-1].delivery_tag)
