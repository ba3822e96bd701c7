"""One worker per ledger: standing by for the consumer lock, and for the previous consumer.

Only the holder of the ledger's consumer lock (ConsumerLock) consumes: a worker started beside
another stands by, without a broker connection, until the lock is free. A worker that takes
the lock waits until no other channel consumes the queue, so that what the previous holder held
unacked is back in the queue first: returned messages are delivered before newer ones, and the
ledger keeps their order.
"""

from __future__ import annotations

import logging
import time

import pika
from pika.adapters.blocking_connection import BlockingChannel

from ledger.infra.db.locks import ConsumerLock, ConsumerLockLost
from ledger.runtime.stopping import StopRequest
from ledger.runtime.topology import LEDGER_QUEUE
from ledger.worker.ingestion import database_unavailable

log = logging.getLogger(__name__)

# How often a worker standing by asks for the lock (and, once it has it, whether the previous
# consumer is gone).
STANDBY_POLL_S = 1.0
# How long a worker that just took the lock waits for the previous one's channel to close.
PREVIOUS_CONSUMER_WAIT_S_MAX = 120.0


def wait_for_the_lock(lock: ConsumerLock, stop: StopRequest) -> bool:
    """Stand by until this worker holds the ledger's consumer lock; False if stopped."""
    said = ""
    while not stop.requested:
        try:
            if lock.try_acquire():
                if said:
                    log.warning("this consumer holds the ledger now")
                return True
            state = "another consumer holds the ledger; standing by"
        except Exception as error:
            if not database_unavailable(error):
                raise
            state = (f"the database is unavailable ({type(error).__name__}); waiting for it "
                     "before consuming")
        if state != said:  # once per change, not once per attempt
            log.warning("%s", state)
            said = state
        stop.sleep(STANDBY_POLL_S)
    return False


def wait_for_the_previous_consumer(connection: pika.BlockingConnection,
                                   channel: BlockingChannel, stop: StopRequest) -> None:
    """Until no other channel consumes the ledger queue (another process that lost the lock, or
    this one's own broken connection the broker has not noticed yet), or for at most
    PREVIOUS_CONSUMER_WAIT_S_MAX."""
    deadline = time.monotonic() + PREVIOUS_CONSUMER_WAIT_S_MAX
    said = False
    while not stop.requested:
        declared = channel.queue_declare(LEDGER_QUEUE, passive=True)
        others = declared.method.consumer_count
        if not others:
            if said:
                log.warning("the previous consumer of %s is gone", LEDGER_QUEUE)
            return
        if time.monotonic() >= deadline:
            log.warning("%d other consumers still on %s after %.0f s; consuming beside them",
                        others, LEDGER_QUEUE, PREVIOUS_CONSUMER_WAIT_S_MAX)
            return
        if not said:
            log.warning("waiting for the previous consumer of %s to let go of its messages "
                        "(%d consumers)", LEDGER_QUEUE, others)
            said = True
        connection.sleep(STANDBY_POLL_S)


def still_holding(lock: ConsumerLock) -> None:
    """ConsumerLockLost if another worker took the lock meanwhile. Asked while idle, so that a
    worker whose lock went to another gives way at once (each append checks it too, under the
    chain lock). During a database outage the answer waits for the outage's end."""
    try:
        held = lock.try_acquire()
    except Exception as error:
        if not database_unavailable(error):
            raise
        return
    if not held:
        raise ConsumerLockLost("another consumer holds the ledger now")
