"""`pointsledger bench publish` (SPEC §11): an adapter publishing from its outbox with confirms,
against bare pika publishing the same bytes with pipelined confirms, in the same run.

Set-up (not timed): a scratch outbox (a SQLite file in a temporary directory, or a scratch
database on a PostgreSQL server) is filled through the adapter's own Intake with simulated
沥家园 webhook records, so the rows are the real ones: mapped, pseudonymized, numbered, signed.

Then, alternately (A B, then B A, …, so that a drift of the machine hits both alike):
- the adapter: `OutboxPump(outbox.events, AmqpTransport(…)).publish_pending()` from the first
  unpublished row to the last: reads rows in seq order, publishes with confirms, marks them
  published;
- the yardstick: `bare_publisher` sending the same routing keys, message ids, bodies and headers,
  held in memory, with the same confirm window, on a connection of its own.
Each phase counts from opening its connection to the last confirm (and, for the adapter, the last
watermark written). The best round of each is reported: noise only ever slows a phase down.

The vhost's ledger queue must be idle (no messages, no consumer): every phase's events land there
and are purged after it, so the bench leaves the queue as it found it. It declares the topology
an adapter declares (SPEC §5), which stays.
"""

from __future__ import annotations

import random
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pika
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pika.adapters.blocking_connection import BlockingChannel
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from adapters.base.intake import Intake
from adapters.base.outbox.database import Outbox
from adapters.base.outbox.events import PUBLISHED_THROUGH
from adapters.base.pump import CHUNK_EVENTS, OutboxPump
from adapters.base.transport import AmqpTransport, TransportUnavailable
from adapters.registry import adapter_module
from ledger.bench.bare_publisher import (
    BareMessage,
    BarePublishFailed,
    publish_with_confirm_window,
)
from ledger.bench.ingest import BenchFailed, BenchRefused
from ledger.bench.scratch_database import scratch_database
from ledger.contract.signing import EventSigner
from ledger.runtime.broker import BROKER_ERRORS, describe_broker_error
from ledger.runtime.pipelined import CONFIRM_WINDOW
from ledger.runtime.topology import (
    EVENTS_EXCHANGE,
    LEDGER_QUEUE,
    connection_parameters,
    declare_ledger_topology,
)
from ledger.settings import Settings

TARGET_RATIO = 0.7
EVENTS_DEFAULT = 20_000
ROUNDS_DEFAULT = 3
BENCH_PLATFORM = "lijiayuan"
SIMULATOR_SEED = 20261122
# Records per Intake call while filling, as one large webhook call: one transaction each.
FILL_BATCH_RECORDS = 1000
FILL_LOCATION = "bench"
CHECK_ROLE = "bench-publish"
YARDSTICK_ROLE = "bench-publish-yardstick"
SQLITE_OUTBOX_NAME = "outbox.sqlite3"
ADAPTER = "adapter"
YARDSTICK = "yardstick"


@dataclass(frozen=True)
class PublishBenchResult:
    events: int
    outbox: str
    adapter_seconds: tuple[float, ...]
    yardstick_seconds: tuple[float, ...]

    @property
    def adapter_events_per_s(self) -> float:
        return self.events / min(self.adapter_seconds)

    @property
    def yardstick_events_per_s(self) -> float:
        return self.events / min(self.yardstick_seconds)

    def document(self) -> dict[str, Any]:
        return {
            "bench": "publish",
            "events": self.events,
            "outbox": self.outbox,
            "rounds": len(self.adapter_seconds),
            "confirm_window": CONFIRM_WINDOW,
            "pump_chunk_size": CHUNK_EVENTS,
            "adapter_events_per_s": round(self.adapter_events_per_s, 1),
            "yardstick_events_per_s": round(self.yardstick_events_per_s, 1),
            "ratio": round(self.adapter_events_per_s / self.yardstick_events_per_s, 3),
            "target_ratio": TARGET_RATIO,
            "adapter_seconds": [round(seconds, 6) for seconds in self.adapter_seconds],
            "yardstick_seconds": [round(seconds, 6) for seconds in self.yardstick_seconds],
        }


def run_publish_bench(settings: Settings, events: int, rounds: int,
                      outbox_url: str | None = None) -> PublishBenchResult:
    amqp_url = _checked_amqp_url(settings)
    outbox_url = _checked_outbox_url(outbox_url)
    _require_idle_ledger_queue(amqp_url)
    with _scratch_outbox(outbox_url) as (outbox, kind):
        _fill(outbox, events, settings.resident_pepper)
        messages = _same_bytes(outbox, events)
        try:
            timings = [_round(outbox, amqp_url, messages, adapter_first=number % 2 == 0)
                       for number in range(rounds)]
        finally:
            _purge_ledger_queue(amqp_url)
    return PublishBenchResult(events, kind, tuple(adapter for adapter, _ in timings),
                              tuple(yardstick for _, yardstick in timings))


def _round(outbox: Outbox, amqp_url: str, messages: Sequence[BareMessage],
           adapter_first: bool) -> tuple[float, float]:
    """Seconds of the adapter and of the yardstick, each followed by a check and a purge."""
    seconds: dict[str, float] = {}
    for phase in (ADAPTER, YARDSTICK) if adapter_first else (YARDSTICK, ADAPTER):
        seconds[phase] = (_time_adapter(outbox, amqp_url, len(messages)) if phase == ADAPTER
                          else _time_yardstick(amqp_url, messages))
        _require_all_routed(amqp_url, len(messages))
        _purge_ledger_queue(amqp_url)
    return seconds[ADAPTER], seconds[YARDSTICK]


def _checked_amqp_url(settings: Settings) -> str:
    if settings.amqp_url is None:
        raise BenchRefused("bench publish needs POINTSLEDGER_AMQP_URL (use a vhost of its own)")
    return settings.amqp_url


def _checked_outbox_url(outbox_url: str | None) -> str | None:
    """None (a temporary SQLite file), or a PostgreSQL URL with the driver we ship."""
    if outbox_url is None:
        return None
    try:
        url = make_url(outbox_url)
    except ArgumentError:
        raise BenchRefused(f"--outbox is not a database URL: {outbox_url!r}") from None
    if url.get_backend_name() != "postgresql":
        raise BenchRefused("--outbox takes a PostgreSQL URL (a scratch database is created on "
                           "that server); without it, the outbox is a temporary SQLite file")
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")  # the only PostgreSQL driver we ship
    return url.render_as_string(hide_password=False)


# -- the outbox -------------------------------------------------------------------------------

@contextmanager
def _scratch_outbox(outbox_url: str | None) -> Iterator[tuple[Outbox, str]]:
    """A new, empty outbox and its kind; removed afterwards, whatever happens. A PostgreSQL
    outbox lives in a scratch database, never beside a real adapter's schema."""
    if outbox_url is None:
        with tempfile.TemporaryDirectory(prefix="pointsledger-bench-") as directory, \
                _open_outbox(f"sqlite:///{Path(directory) / SQLITE_OUTBOX_NAME}") as outbox:
            yield outbox, "sqlite"
        return
    with scratch_database(outbox_url) as scratch_url, \
            _open_outbox(scratch_url) as outbox:
        yield outbox, "postgresql"


@contextmanager
def _open_outbox(url: str) -> Iterator[Outbox]:
    outbox = Outbox(url, BENCH_PLATFORM)
    try:
        yield outbox
    finally:
        outbox.close()


def _fill(outbox: Outbox, events: int, pepper: str) -> None:
    """`events` simulated native records through the adapter's Intake into the outbox."""
    module = adapter_module(BENCH_PLATFORM)
    records = module.generate(random.Random(SIMULATOR_SEED),  # noqa: S311 (test data)
                              events, 0, datetime.now(UTC))
    intake = Intake(module.Mapper(), outbox, EventSigner(Ed25519PrivateKey.generate()), pepper)
    accepted = 0
    for start in range(0, len(records), FILL_BATCH_RECORDS):
        batch = records[start:start + FILL_BATCH_RECORDS]
        report = intake.accept(module.native_records(module.payload(batch), FILL_LOCATION))
        accepted += report.accepted
    if accepted != events:
        raise BenchFailed(f"the outbox took {accepted} of {events} simulated records")


def _same_bytes(outbox: Outbox, events: int) -> list[BareMessage]:
    """What the adapter will publish, row for row, for the yardstick to publish from memory."""
    pending = outbox.events.pending(events)
    if len(pending) != events:
        raise BenchFailed(f"the outbox holds {len(pending)} pending events, not {events}")
    return [BareMessage(event.routing_key, event.event_id, event.body, event.headers)
            for event in pending]


def _replay_from_start(outbox: Outbox) -> None:
    """Every row pending again, as after a restore: the watermark only ever advances otherwise."""
    with outbox.transaction() as transaction:
        transaction.state.set(PUBLISHED_THROUGH, "0")


# -- the two timed phases ---------------------------------------------------------------------

def _time_adapter(outbox: Outbox, amqp_url: str, events: int) -> float:
    _replay_from_start(outbox)
    transport = AmqpTransport(amqp_url, BENCH_PLATFORM)
    try:
        # A running adapter declared its topology when it started: not part of publishing.
        transport.send([])
        pump = OutboxPump(outbox.events, transport)
        started = time.perf_counter()
        sent = pump.publish_pending()
        seconds = time.perf_counter() - started
    except TransportUnavailable as error:
        raise BenchFailed(f"the adapter could not publish: {error}") from None
    finally:
        transport.close()
    backlog = outbox.status()["backlog"]
    if sent != events or backlog != 0:
        raise BenchFailed(f"the adapter published {sent} of {events} events, backlog {backlog}")
    return seconds


def _time_yardstick(amqp_url: str, messages: Sequence[BareMessage]) -> float:
    try:
        return publish_with_confirm_window(connection_parameters(amqp_url, YARDSTICK_ROLE),
                                           EVENTS_EXCHANGE, messages, CONFIRM_WINDOW)
    except BarePublishFailed as error:
        raise BenchFailed(f"the yardstick could not publish: {error}") from None


# -- the ledger queue -------------------------------------------------------------------------

@contextmanager
def _channel(amqp_url: str) -> Iterator[BlockingChannel]:
    """A short-lived channel for checks between the phases (none stays open while timing)."""
    try:
        connection = pika.BlockingConnection(connection_parameters(amqp_url, CHECK_ROLE))
    except BROKER_ERRORS as error:
        raise BenchFailed(f"cannot use RabbitMQ: {describe_broker_error(error)}") from None
    try:
        yield connection.channel()
    except BROKER_ERRORS as error:
        raise BenchFailed(f"RabbitMQ refused: {describe_broker_error(error)}") from None
    finally:
        if connection.is_open:
            connection.close()


def _require_idle_ledger_queue(amqp_url: str) -> None:
    """Declare the topology, and refuse a ledger queue in use: the bench purges it."""
    with _channel(amqp_url) as channel:
        declare_ledger_topology(channel)
        declared = channel.queue_declare(LEDGER_QUEUE, passive=True).method
    if declared.message_count or declared.consumer_count:
        raise BenchRefused(
            f"{LEDGER_QUEUE} already holds {declared.message_count} messages and "
            f"{declared.consumer_count} consumers; run the bench on a vhost of its own")


def _require_all_routed(amqp_url: str, events: int) -> None:
    """Every confirmed message reached the ledger queue once: nothing lost, nothing extra."""
    with _channel(amqp_url) as channel:
        queued = channel.queue_declare(LEDGER_QUEUE, passive=True).method.message_count
    if queued != events:
        raise BenchFailed(f"{LEDGER_QUEUE} holds {queued} messages after publishing {events}: "
                          "is something else using this vhost?")


def _purge_ledger_queue(amqp_url: str) -> None:
    with _channel(amqp_url) as channel:
        channel.queue_purge(LEDGER_QUEUE)
