"""One batch of deliveries → the ledger, with the worker's failure policy (SPEC §5).

- Database unavailable: the same batch is retried (`retry_call`: capped back-off with jitter);
  its messages stay unacked meanwhile (the broker thread keeps the connection alive). The
  outage is logged once as it begins and once as it ends, however many batches it holds up.
- Any other error (a poison message): the batch is retried one message at a time; a message that
  still fails is returned to the queue, whose delivery limit dead-letters it, and the others are
  recorded and acked as usual.
- Another consumer took the ledger's lock (ConsumerLockLost): nothing is appended, the error
  goes to the caller, which gives way.

The Settlement says which deliveries were committed and which to return; the broker thread
acks and nacks after `ingest` returned, that is after the commit (batches.py).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from ledger.domain.outcomes import Outcome, Status
from ledger.domain.verification import Delivery, VerifiedEvent
from ledger.infra.db.locks import ConsumerLockLost
from ledger.runtime.retry import (
    RETRY_DELAY_S_MAX,
    RETRY_DELAY_S_MIN,
    GaveUp,
    Outage,
    Pause,
    retry_call,
)
from ledger.service.ingest import Guard, Ingestor
from ledger.service.outcome_metrics import count_outcomes
from ledger.worker.batches import Received, Settlement

log = logging.getLogger(__name__)

Verified = Sequence[VerifiedEvent | Outcome]


def database_unavailable(error: BaseException) -> bool:
    """The database cannot be reached right now (as opposed to refusing this batch)."""
    if isinstance(error, OperationalError | InterfaceError):
        return True
    return isinstance(error, DBAPIError) and bool(error.connection_invalidated)


class _GiveUp(Exception):
    """Leave the rest of the batch unacked for redelivery."""


class BatchIngestion:
    def __init__(self, ingestor: Ingestor, pause: Pause, guard: Guard | None = None) -> None:
        """`pause` waits between attempts during an outage, in the append thread; it answers
        False once the worker is stopping or its channel is gone (the batch is given up)."""
        self._ingestor = ingestor
        self._pause = pause
        self._guard = guard
        self._outage = Outage(
            log, "the database is unavailable (%s); keeping the messages in hand unacked and "
            f"retrying every {RETRY_DELAY_S_MIN} to {RETRY_DELAY_S_MAX} s",
            "the database is available again after %.1f s")

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
        def attempt() -> list[Outcome]:
            return self._ingestor.ingest(deliveries, verified=verified, guard=self._guard)

        try:
            outcomes = retry_call(attempt, transient=database_unavailable, outage=self._outage,
                                  pause=self._pause)
        except GaveUp:
            log.warning("giving up during a database outage: %d messages stay unacked and will "
                        "be delivered again", len(deliveries))
            raise _GiveUp from None
        # Committed: counted here once, whatever becomes of the acks (a redelivery is a duplicate).
        count_outcomes(outcomes)
        return Counter(outcome.status for outcome in outcomes)
