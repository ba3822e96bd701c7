"""The worker's broker thread: the pika loop that glues the rooms of ledger/worker together.

It receives, lets Batches cut the deliveries into batches, hands each batch at once to the
stage-one helper (StageOneAhead) and to the append thread (AppendLine), and tells the channel
what Batches plans once an append returned. It reconnects through `retry_call` whenever the
broker connection is lost, and stands by while another worker holds the ledger.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pika
import pika.exceptions
from pika.adapters.blocking_connection import BlockingChannel

from ledger.domain.outcomes import Status
from ledger.infra.amqp.messages import delivery_from_message
from ledger.infra.db.locks import ConsumerLock, ConsumerLockLost
from ledger.runtime.broker import (
    ACCESS_REFUSED_ERRORS,
    BROKER_ERRORS,
    BrokerAccessRefused,
    describe_broker_error,
)
from ledger.runtime.metrics import CONSUMER_BATCH_SECONDS
from ledger.runtime.retry import RETRY_DELAY_S_MIN, GaveUp, Outage, retry_call
from ledger.runtime.stopping import STOP_POLL_S, StopRequest
from ledger.runtime.topology import (
    LEDGER_QUEUE,
    connection_parameters,
    declare_ledger_topology,
    declare_outbound_topology,
)
from ledger.service.ingest import Ingestor
from ledger.worker.appending import AppendLine
from ledger.worker.batches import (
    BATCH_SIZE_MAX,
    PREFETCH_COUNT,
    Batches,
    Received,
    Settlement,
    settle_on,
)
from ledger.worker.ingestion import BatchIngestion, database_unavailable
from ledger.worker.standby import still_holding, wait_for_the_lock, wait_for_the_previous_consumer
from ledger.worker.verifying import Ahead, StageOneAhead

log = logging.getLogger(__name__)

CONNECTION_ROLE = "consumer"
OUTCOMES_LOG_INTERVAL_S = 60.0
# How often an idle worker makes sure it still holds the ledger's consumer lock.
LOCK_CHECK_INTERVAL_S = 5.0


class ConsumerCancelledByBroker(pika.exceptions.AMQPError):  # type: ignore[misc]
    """The broker cancelled our consumer (the queue was deleted); treated as a lost connection."""


@dataclass(frozen=True)
class _Batch:
    messages: Sequence[Received]
    # When its first message was in hand (monotonic), for the batch's time to its ack.
    first_in_hand: float
    # Its verdicts on the way from the stage-one helper, or None (the Ingestor verifies).
    ahead: Ahead | None


class LedgerConsumer:
    def __init__(self, amqp_url: str, ingestor: Ingestor,
                 platform_codes: Callable[[], Sequence[str]] | None = None,
                 stage_one: StageOneAhead | None = None,
                 lock: ConsumerLock | None = None) -> None:
        """`platform_codes` lists the registered platforms (for their outbound queues);
        without `stage_one`, the ingestor verifies each batch itself; without `lock`, this
        worker does not check that it is the only one."""
        self._amqp_url = amqp_url
        self._platform_codes = platform_codes
        self._stage_one = stage_one
        self._lock = lock
        self._stop = StopRequest()
        # Set while the broker thread abandons the append thread's work (the channel is gone).
        self._give_up = threading.Event()
        self._ingestion = BatchIngestion(ingestor,
                                         lambda delay_s: self._stop.wait(delay_s, self._give_up),
                                         None if lock is None else lock.confirm_within)
        self._appender = AppendLine[_Batch, Settlement](self._append, "consumer-append")
        self._broker_outage = Outage(log, "lost the RabbitMQ connection (%s); reconnecting",
                                     "reconnected to RabbitMQ after %.1f s",
                                     describe=describe_broker_error)
        self._connected_once = False
        self._connection: pika.BlockingConnection | None = None
        self._channel: BlockingChannel | None = None
        self._consumer_tag: str | None = None
        self._cancelled_by_broker = False
        self._batches = Batches()
        self._outcomes: Counter[Status] = Counter()
        self._outcomes_logged_at = time.monotonic()
        self._lock_checked_at = time.monotonic()

    def stop(self) -> None:
        """Stop taking messages, finish the ones in hand, then return from run().

        Safe from a signal handler and from another thread: it only sets a flag.
        """
        self._stop.request()

    def run(self) -> None:
        """Consume until stop(); reconnect whenever the broker connection is lost."""
        if self._stage_one is not None:
            self._stage_one.start()
        self._give_up.clear()
        self._appender.start()
        try:
            while self._connect_when_allowed():
                self._consume_until_lost()
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

    def _connect_when_allowed(self) -> bool:
        """Connected, once this worker holds the lock and the broker answers; False if stopped
        first."""
        try:
            retry_call(self._connect_holding_the_lock, transient=self._reconnectable,
                       outage=self._broker_outage, pause=self._stop.sleep)
        except GaveUp:
            return False
        except ACCESS_REFUSED_ERRORS as error:
            # A wrong URL is not an outage: waiting would not make it right.
            raise BrokerAccessRefused(
                "RabbitMQ refuses the user, password or vhost of "
                f"POINTSLEDGER_AMQP_URL ({type(error).__name__})") from None
        return True

    def _reconnectable(self, error: BaseException) -> bool:
        refused = not self._connected_once and isinstance(error, ACCESS_REFUSED_ERRORS)
        return isinstance(error, BROKER_ERRORS) and not refused

    def _connect_holding_the_lock(self) -> None:
        """GaveUp when stopped first (not an outage's end: nothing to say about the broker)."""
        if self._stop.requested:
            raise GaveUp
        if self._lock is not None and not wait_for_the_lock(self._lock, self._stop):
            raise GaveUp
        try:
            self._connect()
        except BaseException:
            self._close_connection()
            raise
        self._connected_once = True

    def _consume_until_lost(self) -> None:
        """Until stopped and drained, or until this connection is lost or the lock is."""
        try:
            self._consume()
        except ConsumerLockLost:
            log.warning("another consumer holds the ledger now: giving way, the messages "
                        "in hand go back to the queue")
            self._forget_channel()
        except BROKER_ERRORS as error:
            self._forget_channel()
            if self._stop.requested:
                return  # stopping anyway: no reconnection to announce
            self._broker_outage.failed(error, RETRY_DELAY_S_MIN)
            # The first pause of the back-off, then reconnect (retry_call's pauses after that).
            self._stop.sleep(RETRY_DELAY_S_MIN)

    def _connect(self) -> None:
        connection = pika.BlockingConnection(connection_parameters(self._amqp_url,
                                                                   CONNECTION_ROLE))
        self._connection = connection
        channel = connection.channel()
        self._channel = channel
        declare_ledger_topology(channel)
        self._declare_outbound(channel)
        channel.basic_qos(prefetch_count=PREFETCH_COUNT)
        channel.add_on_cancel_callback(self._on_cancelled_by_broker)
        self._cancelled_by_broker = False
        wait_for_the_previous_consumer(connection, channel, self._stop)
        if self._stop.requested:
            return  # nothing taken: _consume has nothing to finish
        self._consumer_tag = channel.basic_consume(LEDGER_QUEUE, self._on_message)
        log.info("consuming %s (prefetch %d, batches of up to %d)", LEDGER_QUEUE,
                 PREFETCH_COUNT, BATCH_SIZE_MAX)

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
        self._batches.forget()
        if self._stage_one is not None:
            self._stage_one.drop()
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
            if self._stop.requested and not self._batches.draining:
                self._begin_drain()
            if self._batches.drained:
                return
            if self._cancelled_by_broker:
                raise ConsumerCancelledByBroker("the broker cancelled the consumer")
            self._step()
            if time.monotonic() - self._outcomes_logged_at >= OUTCOMES_LOG_INTERVAL_S:
                self._log_outcomes()
            if time.monotonic() - self._lock_checked_at >= LOCK_CHECK_INTERVAL_S:
                self._check_the_lock()

    def _step(self) -> None:
        """Settle what the append thread finished; cut the batches that are due and hand each
        to the helper and the append thread; receive until a batch is due or an append ends."""
        connection, channel = self._connection, self._channel
        assert connection is not None and channel is not None
        for finished in self._appender.finished():
            if finished.error is not None:
                raise finished.error
            assert finished.result is not None
            self._outcomes += finished.result.outcomes
            settle_on(channel, self._batches.settle(finished.result))
            CONSUMER_BATCH_SECONDS.observe(time.monotonic() - finished.job.first_in_hand)
        while self._batches.due(time.monotonic()):
            first_in_hand = self._batches.pending_since
            messages = self._batches.cut(time.monotonic())
            ahead = None
            if self._stage_one is not None:
                ahead = self._stage_one.submit([message.delivery for message in messages])
            self._appender.hand_over(_Batch(messages, first_in_hand, ahead),
                                     self._waker(connection))
        connection.process_data_events(
            time_limit=self._batches.wait_s(time.monotonic(), STOP_POLL_S))

    def _waker(self, connection: pika.BlockingConnection) -> Callable[[], None]:
        """Ends the broker thread's wait for data, from the append thread."""
        def wake() -> None:
            # A connection closed meanwhile has nobody waiting on it.
            with contextlib.suppress(pika.exceptions.ConnectionWrongStateError):
                connection.add_callback_threadsafe(_nothing)
        return wake

    def _on_message(self, _channel: BlockingChannel, method: pika.spec.Basic.Deliver,
                    properties: pika.BasicProperties, body: bytes) -> None:
        self._batches.receive(Received(method.delivery_tag,
                                       delivery_from_message(properties, body),
                                       properties.message_id), time.monotonic())

    def _on_cancelled_by_broker(self, _method: object) -> None:
        self._cancelled_by_broker = True

    def _append(self, batch: _Batch) -> Settlement:
        """In the append thread."""
        verified = None
        if self._stage_one is not None:
            verified = self._stage_one.result(batch.ahead)
        return self._ingestion.ingest(batch.messages, verified)

    def _begin_drain(self) -> None:
        """No more deliveries; what was already delivered is still appended and acked."""
        self._batches.begin_drain()
        log.info("stopping: finishing the %d messages in hand", self._batches.messages_in_hand)
        if self._channel is not None and self._consumer_tag is not None:
            # pika returns to the queue what it received but had not yet handed to us.
            self._channel.basic_cancel(self._consumer_tag)

    def _check_the_lock(self) -> None:
        """While idle only: the append thread then has the lock's connection to itself."""
        self._lock_checked_at = time.monotonic()
        if self._lock is not None and not self._batches.in_hand:
            still_holding(self._lock)

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
