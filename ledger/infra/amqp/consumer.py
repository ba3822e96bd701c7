"""The ledger consumer: `pointsledger.ledger` → verify → append → ack (SPEC §5).

One thread owns the broker connection: it receives, cuts the messages into batches and hands
each batch at once to the stage-one helper process (signatures, StageOneAhead) and to the append
thread (AppendThread), which appends the batches one after another, each in one transaction.
Only after that commit does the broker thread ack the batch's deliveries (one
`basic_ack(multiple=True)`): a delivery is never acked before its batch is in the database. The
broker thread goes on receiving while a batch waits for the database, so the next batches are
in hand, and verified, by the time it commits.

Only the holder of the ledger's consumer lock (ConsumerLock) consumes: a consumer started beside
another stands by, without a broker connection, until the lock is free, and one that finds the
lock taken by another consumer drops its connection (its unacked messages go back to the queue)
and stands by again. A consumer that takes the lock waits until no other channel consumes the
queue, so that the previous holder's unacked messages are back first and keep their order.

The broker sends at most `prefetch_count` unacked messages and at most three batches are in
hand, which bounds memory whatever the backlog. While the database is unavailable, the append
thread retries its batch and the broker thread keeps serving the connection, so heartbeats keep
it and its unacked messages ours. When the broker connection is lost, the append thread gives up
its batch, the consumer reconnects with capped back-off and declares the topology again; the
unacked messages come back redelivered and the ingestor records each event once (the rest are
duplicates).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pika
import pika.exceptions
from pika.adapters.blocking_connection import BlockingChannel

from ledger.domain.outcomes import Status
from ledger.infra.amqp.append_thread import AppendThread
from ledger.infra.amqp.backoff import Backoff
from ledger.infra.amqp.batch_ingest import (
    BatchIngestion,
    Received,
    Settlement,
    database_unavailable,
)
from ledger.infra.amqp.messages import delivery_from_message
from ledger.infra.amqp.stage_one import StageOneAhead
from ledger.infra.amqp.stage_one_wire import Verified
from ledger.infra.db.locks import ConsumerLock, ConsumerLockLost
from ledger.runtime.broker import (
    ACCESS_REFUSED_ERRORS,
    BROKER_ERRORS,
    BrokerAccessRefused,
    describe_broker_error,
)
from ledger.runtime.topology import (
    LEDGER_QUEUE,
    connection_parameters,
    declare_ledger_topology,
    declare_outbound_topology,
)
from ledger.service.ingest import Ingestor

log = logging.getLogger(__name__)

# Each batch costs a few fixed round trips and one commit (fsync) whatever its size; at 1500
# those are a small share, and the messages in hand stay well under the memory target.
batch_size_max = 1500
# Batches cut and not yet settled: the oldest is appended while the helper verifies the
# others, so that it still has work while the append waits for the database.
batches_in_hand_max = 3
# A lone message waits at most this long for others to share its transaction.
batch_wait_s_max = 0.05
# The batches in hand: a fourth batch could not be cut before the oldest is settled anyway.
prefetch_count = batches_in_hand_max * batch_size_max
reconnect_delay_s_min = 0.5
reconnect_delay_s_max = 30.0
# How soon the loop notices stop() while no message arrives.
idle_poll_s = 0.2
outcomes_log_interval_s = 60.0
# How often a consumer standing by asks for the lock (and, once it has it, whether the previous
# consumer is gone), and an idle one makes sure it still has it.
standby_poll_s = 1.0
lock_check_interval_s = 5.0
# How long a consumer that just took the lock waits for the previous one's channel to close.
previous_consumer_wait_s_max = 120.0
CONNECTION_ROLE = "consumer"


class ConsumerCancelledByBroker(pika.exceptions.AMQPError):  # type: ignore[misc]
    """The broker cancelled our consumer (the queue was deleted); treated as a lost connection."""


@dataclass(frozen=True)
class _Batch:
    messages: list[Received]
    # The stage-one helper's ticket for this batch's verdicts.
    ticket: int | None


class LedgerConsumer:
    def __init__(self, amqp_url: str, ingestor: Ingestor,
                 platform_codes: Callable[[], Sequence[str]] | None = None,
                 stage_one: StageOneAhead | None = None,
                 lock: ConsumerLock | None = None) -> None:
        """`platform_codes` lists the registered platforms (for their outbound queues);
        without `stage_one`, the ingestor verifies each batch itself; without `lock`, this
        consumer does not check that it is the only one."""
        self._amqp_url = amqp_url
        self._platform_codes = platform_codes
        self._stage_one = stage_one
        self._lock = lock
        self._ingestion = BatchIngestion(ingestor, self._wait_for_retry,
                                         None if lock is None else lock.confirm_within)
        self._appender = AppendThread[_Batch, Settlement](self._append, "consumer-append")
        # Set while the broker thread abandons the append thread's work (the channel is gone).
        self._give_up = threading.Event()
        self._stop_requested = False
        self._connection: pika.BlockingConnection | None = None
        self._channel: BlockingChannel | None = None
        self._consumer_tag: str | None = None
        self._cancelled_by_broker = False
        self._draining = False
        self._pending: list[Received] = []
        self._pending_since = 0.0
        # Cut and handed to the helper and the append thread, not yet settled, oldest first.
        self._in_hand: deque[_Batch] = deque()
        # Some delivery of this channel was left unacked: a `multiple` ack would cover it.
        self._unacked_gap = False
        self._outcomes: Counter[Status] = Counter()
        self._outcomes_logged_at = time.monotonic()
        self._lock_checked_at = time.monotonic()

    def stop(self) -> None:
        """Stop taking messages, finish the ones in hand, then return from run().

        Safe from a signal handler and from another thread: it only sets a flag.
        """
        self._stop_requested = True

    def run(self) -> None:
        """Consume until stop(); reconnect whenever the broker connection is lost."""
        if self._stage_one is not None:
            self._stage_one.start()
        self._give_up.clear()
        self._appender.start()
        backoff = Backoff(reconnect_delay_s_min, reconnect_delay_s_max)
        broker_down_since: float | None = None
        connected_once = False
        try:
            while not self._stop_requested:
                if not self._wait_for_the_lock():
                    break
                try:
                    self._connect()
                    connected_once = True
                    if broker_down_since is not None:
                        log.warning("reconnected to RabbitMQ after %.1f s",
                                    time.monotonic() - broker_down_since)
                        broker_down_since = None
                    backoff.reset()
                    self._consume()
                except ConsumerLockLost:
                    log.warning("another consumer holds the ledger now: giving way, the messages "
                                "in hand go back to the queue")
                    self._forget_channel()
                except BROKER_ERRORS as error:
                    self._forget_channel()
                    if not connected_once and isinstance(error, ACCESS_REFUSED_ERRORS):
                        # A wrong URL is not an outage: waiting would not make it right.
                        raise BrokerAccessRefused(
                            "RabbitMQ refuses the user, password or vhost of "
                            f"POINTSLEDGER_AMQP_URL ({type(error).__name__})") from None
                    if self._stop_requested:
                        break
                    delay_s = backoff.next_delay_s()
                    if broker_down_since is None:
                        broker_down_since = time.monotonic()
                        log.warning("lost the RabbitMQ connection (%s); reconnecting",
                                    describe_broker_error(error))
                    else:
                        log.info("RabbitMQ is still unreachable (%s); next attempt in %.1f s",
                                 describe_broker_error(error), delay_s)
                    self._sleep_unless_stopped(delay_s)
        finally:
            self._give_up.set()
            self._appender.close()
            self._close_connection()
            if self._stage_one is not None:
                self._stage_one.close()
            if self._lock is not None:
                self._lock.release()
            self._log_outcomes()
        log.info("consumer stopped")

    # -- connection ------------------------------------------------------------------------

    def _wait_for_the_lock(self) -> bool:
        """Stand by until this consumer holds the ledger's consumer lock; False if stopped."""
        if self._lock is None:
            return True
        said = ""
        while not self._stop_requested:
            try:
                if self._lock.try_acquire():
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
            self._sleep_unless_stopped(standby_poll_s)
        return False

    def _connect(self) -> None:
        connection = pika.BlockingConnection(connection_parameters(self._amqp_url,
                                                                   CONNECTION_ROLE))
        self._connection = connection
        channel = connection.channel()
        self._channel = channel
        declare_ledger_topology(channel)
        self._declare_outbound(channel)
        channel.basic_qos(prefetch_count=prefetch_count)
        channel.add_on_cancel_callback(self._on_cancelled_by_broker)
        self._cancelled_by_broker = False
        self._draining = False
        self._wait_for_the_previous_consumer(connection, channel)
        if self._stop_requested:
            return  # nothing taken: _consume has nothing to finish
        self._consumer_tag = channel.basic_consume(LEDGER_QUEUE, self._on_message)
        log.info("consuming %s (prefetch %d, batches of up to %d)", LEDGER_QUEUE,
                 prefetch_count, batch_size_max)

    def _wait_for_the_previous_consumer(self, connection: pika.BlockingConnection,
                                        channel: BlockingChannel) -> None:
        """Until no other channel consumes the ledger queue, so that what the previous consumer
        held unacked (another process that lost the lock, or this one's own broken connection
        the broker has not noticed yet) is back in the queue first: returned messages are
        delivered before newer ones, and the ledger keeps their order."""
        deadline = time.monotonic() + previous_consumer_wait_s_max
        said = False
        while not self._stop_requested:
            declared = channel.queue_declare(LEDGER_QUEUE, passive=True)
            others = declared.method.consumer_count
            if not others:
                if said:
                    log.warning("the previous consumer of %s is gone", LEDGER_QUEUE)
                return
            if time.monotonic() >= deadline:
                log.warning("%d other consumers still on %s after %.0f s; consuming beside them",
                            others, LEDGER_QUEUE, previous_consumer_wait_s_max)
                return
            if not said:
                log.warning("waiting for the previous consumer of %s to let go of its messages "
                            "(%d consumers)", LEDGER_QUEUE, others)
                said = True
            connection.sleep(standby_poll_s)

    def _check_the_lock(self) -> None:
        """While idle, so that a consumer whose lock went to another gives way at once (each
        append checks it, under the chain lock; and the append thread then has the lock's
        connection to itself)."""
        self._lock_checked_at = time.monotonic()
        if self._lock is None or self._in_hand:
            return
        try:
            held = self._lock.try_acquire()
        except Exception as error:
            if not database_unavailable(error):
                raise
            return  # an outage: the batch in hand waits it out, and checks again when it is over
        if not held:
            raise ConsumerLockLost("another consumer holds the ledger now")

    def _declare_outbound(self, channel: BlockingChannel) -> None:
        """Best effort: the ledger must run through a database outage, outbound queues or not."""
        if self._platform_codes is None:
            return
        try:
            platforms = list(self._platform_codes())
        except Exception as error:
            if not database_unavailable(error):
                raise
            log.warning("could not read the platforms to declare their outbound queues (%s); "
                        "run `pointsledger amqp setup` once the database is back",
                        type(error).__name__)
            return
        declare_outbound_topology(channel, platforms)

    def _forget_channel(self) -> None:
        """The channel is gone: its unacked deliveries come back to whoever consumes next.

        The batch being appended is committed or given up before this returns, so nothing of
        this channel is appended after what the next one delivers."""
        self._give_up.set()
        self._appender.abandon()
        self._give_up.clear()
        self._pending.clear()
        self._in_hand.clear()
        if self._stage_one is not None:
            self._stage_one.drop()
        self._unacked_gap = False
        self._close_connection()

    def _close_connection(self) -> None:
        connection, self._connection, self._channel = self._connection, None, None
        self._consumer_tag = None
        if connection is None:
            return
        try:
            if connection.is_open:
                connection.close()
        except BROKER_ERRORS as error:
            log.debug("closing the broker connection failed: %s", type(error).__name__)

    # -- the loop --------------------------------------------------------------------------

    def _consume(self) -> None:
        """Until stopped and drained (returns) or the connection is lost (raises)."""
        while True:
            if self._stop_requested and not self._draining:
                self._begin_drain()
            if self._draining and not self._pending and not self._in_hand:
                return
            if self._cancelled_by_broker:
                raise ConsumerCancelledByBroker("the broker cancelled the consumer")
            self._step()
            if time.monotonic() - self._outcomes_logged_at >= outcomes_log_interval_s:
                self._log_outcomes()
            if time.monotonic() - self._lock_checked_at >= lock_check_interval_s:
                self._check_the_lock()

    def _step(self) -> None:
        """Settle what the append thread finished; cut the batches that are ready and hand each
        to the helper and the append thread; receive until a batch is due or an append ends."""
        assert self._connection is not None
        self._settle_finished()
        while self._batch_ready() and len(self._in_hand) < batches_in_hand_max:
            batch = self._cut_batch()
            self._in_hand.append(batch)
            self._appender.hand_over(batch, self._waker(self._connection))
        self._connection.process_data_events(time_limit=self._receive_wait_s())

    def _waker(self, connection: pika.BlockingConnection) -> Callable[[], None]:
        """Ends the broker thread's wait for data, from the append thread."""
        def wake() -> None:
            # A connection closed meanwhile has nobody waiting on it.
            with contextlib.suppress(pika.exceptions.ConnectionWrongStateError):
                connection.add_callback_threadsafe(_nothing)
        return wake

    def _settle_finished(self) -> None:
        for finished in self._appender.finished():
            batch = self._in_hand.popleft()
            assert finished.job is batch, "the append thread keeps the order"
            if finished.error is not None:
                raise finished.error
            assert finished.result is not None
            self._settle(finished.result)

    def _on_message(self, _channel: BlockingChannel, method: pika.spec.Basic.Deliver,
                    properties: pika.BasicProperties, body: bytes) -> None:
        if not self._pending:
            self._pending_since = time.monotonic()
        self._pending.append(Received(method.delivery_tag,
                                      delivery_from_message(properties, body),
                                      properties.message_id))

    def _on_cancelled_by_broker(self, _method: object) -> None:
        self._cancelled_by_broker = True

    def _batch_ready(self) -> bool:
        if not self._pending:
            return False
        return (self._draining or len(self._pending) >= batch_size_max
                or time.monotonic() - self._pending_since >= batch_wait_s_max)

    def _receive_wait_s(self) -> float:
        if self._pending and len(self._in_hand) < batches_in_hand_max:
            return max(0.0, self._pending_since + batch_wait_s_max - time.monotonic())
        # Nothing to cut (or no room for it): an append ending wakes the wait.
        return idle_poll_s

    def _cut_batch(self) -> _Batch:
        messages = self._pending[:batch_size_max]
        del self._pending[:batch_size_max]
        # The rest arrived later than the first one; starting their clock now is close enough.
        self._pending_since = time.monotonic()
        ticket = None
        if self._stage_one is not None:
            ticket = self._stage_one.submit([message.delivery for message in messages])
        return _Batch(messages, ticket)

    def _append(self, batch: _Batch) -> Settlement:
        """In the append thread."""
        verified: Verified | None = None
        if self._stage_one is not None:
            verified = self._stage_one.result(batch.ticket)
        return self._ingestion.ingest(batch.messages, verified)

    def _settle(self, settlement: Settlement) -> None:
        channel = self._channel
        assert channel is not None
        self._outcomes += settlement.outcomes
        for tag in settlement.nacks:
            channel.basic_nack(tag, requeue=True)
        if settlement.all_committed and not self._unacked_gap:
            # Every earlier delivery of this channel is settled: one frame acks the batch.
            channel.basic_ack(settlement.messages[-1].delivery_tag, multiple=True)
        else:
            acked = ([message.delivery_tag for message in settlement.messages]
                     if settlement.all_committed else settlement.acks)
            for tag in acked:
                channel.basic_ack(tag)
        if settlement.left_unacked:
            self._unacked_gap = True

    def _begin_drain(self) -> None:
        """No more deliveries; what was already delivered is still appended and acked."""
        self._draining = True
        in_hand = sum(len(batch.messages) for batch in self._in_hand)
        log.info("stopping: finishing the %d messages in hand", len(self._pending) + in_hand)
        if self._channel is not None and self._consumer_tag is not None:
            # pika returns to the queue what it received but had not yet handed to us.
            self._channel.basic_cancel(self._consumer_tag)

    # -- waiting ---------------------------------------------------------------------------

    def _wait_for_retry(self, delay_s: float) -> bool:
        """In the append thread, between attempts at a batch while the database is unavailable
        (the broker thread keeps the connection alive meanwhile); False once stop() was called
        or the channel is gone."""
        deadline = time.monotonic() + delay_s
        while not self._stop_requested and (remaining := deadline - time.monotonic()) > 0:
            if self._give_up.wait(min(remaining, idle_poll_s)):
                return False
        return not self._stop_requested

    def _sleep_unless_stopped(self, delay_s: float) -> None:
        deadline = time.monotonic() + delay_s
        while not self._stop_requested and (remaining := deadline - time.monotonic()) > 0:
            time.sleep(min(remaining, idle_poll_s))

    def _log_outcomes(self) -> None:
        outcomes = self._outcomes
        if outcomes:
            log.info("appended %d recorded, %d duplicate and %d rejected events",
                     outcomes[Status.RECORDED], outcomes[Status.DUPLICATE],
                     outcomes[Status.REJECTED])
        outcomes.clear()
        self._outcomes_logged_at = time.monotonic()


def _nothing() -> None:
    """A callback whose only effect is that the broker thread's wait returns."""
