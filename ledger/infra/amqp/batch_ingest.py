"""One batch of deliveries → the ledger, with the consumer's failure policy (SPEC §5).

- Database unavailable: the same batch is retried with capped back-off; its messages stay unacked
  meanwhile (the caller's broker thread keeps the connection alive).
- Any other error (a poison message): the batch is retried one message at a time; a message that
  still fails is returned to the queue, whose delivery limit dead-letters it, and the others are
  recorded and acked as usual.
- Another consumer took the ledger's lock (ConsumerLockLost): nothing is appended, the error
  goes to the caller, which gives way.

The result says which deliveries to ack and nack, and how many events were recorded, duplicate
or rejected; the caller acks and nacks after `ingest` returned, that is after the commit.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from ledger.domain.outcomes import Outcome, Status
from ledger.domain.verification import Delivery, VerifiedEvent
from ledger.infra.amqp.backoff import Backoff
from ledger.infra.db.locks import ConsumerLockLost
from ledger.service.ingest import Guard, Ingestor

log = logging.getLogger(__name__)

retry_delay_s_min = 0.5
retry_delay_s_max = 30.0

Verified = Sequence[VerifiedEvent | Outcome]
# Waits about that many seconds without raising; False when the batch should be given up
# (the consumer is stopping, or its broker connection is gone). Called from the append thread.
Wait = Callable[[float], bool]


@dataclass(frozen=True)
class Received:
    """One message taken from the queue, not yet settled."""

    delivery_tag: int
    delivery: Delivery
    message_id: str | None


@dataclass(frozen=True)
class Settlement:
    """What to tell the broker about one batch once `ingest` returned."""

    messages: Sequence[Received]
    # The whole batch is committed: one `basic_ack(multiple=True)` up to its last tag may do.
    all_committed: bool = False
    acks: list[int] = field(default_factory=list)
    nacks: list[int] = field(default_factory=list)
    outcomes: Counter[Status] = field(default_factory=Counter)

    @property
    def left_unacked(self) -> bool:
        settled = len(self.messages) if self.all_committed else len(self.acks) + len(self.nacks)
        return settled < len(self.messages)


def database_unavailable(error: BaseException) -> bool:
    """The database cannot be reached right now (as opposed to refusing this batch)."""
    if isinstance(error, OperationalError | InterfaceError):
        return True
    return isinstance(error, DBAPIError) and bool(error.connection_invalidated)


class _GiveUp(Exception):
    """Leave the rest of the batch unacked for redelivery."""


class BatchIngestion:
    def __init__(self, ingestor: Ingestor, wait: Wait, guard: Guard | None = None) -> None:
        self._ingestor = ingestor
        self._wait = wait
        self._guard = guard
        self._outage_since: float | None = None

    def ingest(self, messages: Sequence[Received], verified: Verified | None) -> Settlement:
        """`verified` is stage one done ahead for these messages, or None to do it here."""
        try:
            outcomes = self._ingest_with_retry([message.delivery for message in messages],
                                               verified)
        except _GiveUp:
            return Settlement(messages)
        except ConsumerLockLost:
            raise
        except Exception as error:
            if len(messages) == 1:
                return self._refuse(messages[0], error)
            log.warning("a batch of %d messages failed (%s); retrying one message at a time",
                        len(messages), type(error).__name__)
            return self._one_by_one(messages, verified)
        return Settlement(messages, all_committed=True, outcomes=outcomes)

    def _refuse(self, message: Received, error: Exception) -> Settlement:
        """Return a message that cannot be appended to the queue (nack, requeue)."""
        # The type only: an error's text may quote the event, and logs hold no bodies.
        log.error("message %s (delivery %d) cannot be appended (%s); returning it to the queue, "
                  "which dead-letters it after its delivery limit", message.message_id,
                  message.delivery_tag, type(error).__name__)
        log.debug("why message %s cannot be appended", message.message_id, exc_info=True)
        return Settlement([message], nacks=[message.delivery_tag])

    def _one_by_one(self, messages: Sequence[Received], verified: Verified | None) -> Settlement:
        acks: list[int] = []
        nacks: list[int] = []
        outcomes: Counter[Status] = Counter()
        for index, message in enumerate(messages):
            item = None if verified is None else [verified[index]]
            try:
                outcomes += self._ingest_with_retry([message.delivery], item)
            except _GiveUp:
                break
            except ConsumerLockLost:
                raise
            except Exception as error:
                nacks.extend(self._refuse(message, error).nacks)
                continue
            acks.append(message.delivery_tag)
        return Settlement(messages, acks=acks, nacks=nacks, outcomes=outcomes)

    def _ingest_with_retry(self, deliveries: list[Delivery], verified: Verified | None,
                           ) -> Counter[Status]:
        backoff = Backoff(retry_delay_s_min, retry_delay_s_max)
        while True:
            try:
                outcomes = self._ingestor.ingest(deliveries, verified=verified,
                                                 guard=self._guard)
            except Exception as error:
                if not database_unavailable(error):
                    raise
                self._note_outage(error, len(deliveries))
                if not self._wait(backoff.next_delay_s()):
                    log.warning("giving up during a database outage: %d messages stay unacked "
                                "and will be delivered again", len(deliveries))
                    raise _GiveUp from None
                continue
            self._note_recovery()
            return Counter(outcome.status for outcome in outcomes)

    def _note_outage(self, error: BaseException, messages: int) -> None:
        if self._outage_since is not None:
            return  # one warning per outage, not one per retry
        self._outage_since = time.monotonic()
        log.warning("the database is unavailable (%s); keeping %d messages unacked and retrying "
                    "every %s to %s s", type(error).__name__, messages, retry_delay_s_min,
                    retry_delay_s_max)

    def _note_recovery(self) -> None:
        if self._outage_since is None:
            return
        log.warning("the database is available again after %.1f s",
                    time.monotonic() - self._outage_since)
        self._outage_since = None
