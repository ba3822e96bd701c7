"""`pointsledger bench ingest` (SPEC §11): signed events already queued in RabbitMQ → verified,
appended and acked by a real `pointsledger consume` process, against PostgreSQL.

Nothing real is touched: the ledger is a scratch database created next to the configured one and
dropped at the end; the vhost must hold no ledger messages and no consumer. The yardstick, plain
Ed25519 verifications per second on one core, is measured in the same run, just before and just
after the timed part (their mean), so that the ratio holds on a noisy machine.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import pika
import pika.exceptions
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from ledger.bench.events import BenchEvent, signed_events
from ledger.bench.scratch_database import scratch_database
from ledger.bench.yardstick import ed25519_verifications_per_s
from ledger.bootstrap import build
from ledger.contract.signing import EventSigner
from ledger.contract.webhook import HEADER_TIMESTAMP, signed_content
from ledger.infra.db.models import CheckpointRow, LedgerEntryRow, Rejection
from ledger.infra.db.tree_store import LEDGER_LOG
from ledger.runtime.broker import describe_broker_error
from ledger.runtime.pipelined import OutgoingMessage, PublishFailed, publish_pipelined
from ledger.runtime.topology import (
    EVENTS_EXCHANGE,
    LEDGER_QUEUE,
    connection_parameters,
    declare_ledger_topology,
)
from ledger.service import registry
from ledger.settings import Settings

TARGET_RATIO = 0.5
RSS_TARGET_MB = 150
EVENTS_DEFAULT = 100_000
BENCH_PLATFORM = "bench"
POLL_INTERVAL_S = 0.05
# The wait for the ledger gives up when the consumer is slower than this (and after 60 s at least).
EVENTS_PER_S_FLOOR = 100
WAIT_S_MIN = 60.0
CONSUMER_STOP_TIMEOUT_S = 60.0
CONSUMER_LOG_TAIL_CHARS = 2000
CONSUMER_COMMAND = ("-c", "from ledger.cli.main import main; main()", "consume")
# Beside the consumer, as deployed (SPEC §14): signing checkpoints every second, ten times as
# often as the default, so whatever it costs the appends is counted generously.
CHECKPOINTER_COMMAND = ("-c", "from ledger.cli.main import main; main()", "checkpoints", "run")
CHECKPOINT_INTERVAL_S = "1"
CHECKPOINT_WAIT_S = 30.0


class BenchRefused(Exception):
    """The bench must not run with this configuration (usage error, exit 2)."""


class BenchFailed(Exception):
    """The bench ran but could not measure (exit 1)."""


@dataclass(frozen=True)
class IngestBenchResult:
    events: int
    seconds: float
    ed25519_verifications_per_s: float
    consumer_peak_rss_mb: float
    checkpoints: int = 0

    @property
    def events_per_s(self) -> float:
        return self.events / self.seconds

    def document(self) -> dict[str, Any]:
        return {
            "bench": "ingest",
            "events": self.events,
            "seconds": round(self.seconds, 3),
            "events_per_s": round(self.events_per_s, 1),
            "ed25519_verifications_per_s": round(self.ed25519_verifications_per_s, 1),
            "ratio": round(self.events_per_s / self.ed25519_verifications_per_s, 3),
            "target_ratio": TARGET_RATIO,
            "consumer_peak_rss_mb": round(self.consumer_peak_rss_mb, 1),
            "rss_target_mb": RSS_TARGET_MB,
            "checkpoints_signed": self.checkpoints,
        }


def run_ingest_bench(settings: Settings, events: int) -> IngestBenchResult:
    amqp_url = _checked_configuration(settings)
    _require_idle_ledger_queue(amqp_url)
    with scratch_database(settings.database_url) as scratch_url:
        scratch = dataclasses.replace(settings, database_url=scratch_url)
        bench_events = _register_and_sign(scratch, events)
        _publish(amqp_url, bench_events)
        signed_size = _mean_signed_size(bench_events)
        # The yardstick brackets the timed run: a shared machine's speed drifts by a fifth
        # within a minute, and one measurement on either side would catch only one end of it.
        before = ed25519_verifications_per_s(signed_size)
        seconds, peak_rss_mb, checkpoints = _time_consumer(scratch, events)
        after = ed25519_verifications_per_s(signed_size)
    _require_idle_ledger_queue(amqp_url, after_run=True)
    return IngestBenchResult(events, seconds, (before + after) / 2, peak_rss_mb, checkpoints)


def _checked_configuration(settings: Settings) -> str:
    if make_url(settings.database_url).get_backend_name() != "postgresql":
        raise BenchRefused("bench ingest needs PostgreSQL: POINTSLEDGER_DATABASE_URL points to "
                           "SQLite (the scratch database is created on its server)")
    if settings.amqp_url is None:
        raise BenchRefused("bench ingest needs POINTSLEDGER_AMQP_URL (use a vhost of its own)")
    return settings.amqp_url


def _require_idle_ledger_queue(amqp_url: str, after_run: bool = False) -> None:
    """Declare the topology, and refuse a vhost whose ledger queue is in use: the bench's
    consumer would take real events into a database that is dropped afterwards. After the run,
    the queue must be empty again: every event was acked."""
    try:
        connection = pika.BlockingConnection(connection_parameters(amqp_url, "bench"))
    except (pika.exceptions.AMQPError, OSError) as error:
        raise BenchFailed(f"cannot use RabbitMQ: {describe_broker_error(error)}") from None
    try:
        channel = connection.channel()
        declare_ledger_topology(channel)
        declared = channel.queue_declare(LEDGER_QUEUE, passive=True).method
    finally:
        connection.close()
    if after_run and declared.message_count:
        raise BenchFailed(f"{declared.message_count} messages are still in {LEDGER_QUEUE} after "
                          "the consumer stopped: not every event was acked")
    if declared.message_count or declared.consumer_count:
        raise BenchRefused(
            f"{LEDGER_QUEUE} already holds {declared.message_count} messages and "
            f"{declared.consumer_count} consumers; run the bench on a vhost of its own")


def _register_and_sign(scratch: Settings, events: int) -> list[BenchEvent]:
    ledger = build(scratch)
    try:
        with ledger.sessions.begin() as session:
            registry.add_platform(session, BENCH_PLATFORM, "Benchmark platform", "Bench town",
                                  ledger.clock())
            private_key, _ = registry.generate_key(session, BENCH_PLATFORM, ledger.clock())
    finally:
        ledger.close()
    return signed_events(EventSigner(private_key), BENCH_PLATFORM, events,
                         scratch.resident_pepper)


def _publish(amqp_url: str, bench_events: list[BenchEvent]) -> None:
    messages = [
        OutgoingMessage(event.routing_key, event.signed.event_id, event.signed.body,
                        event.signed.headers)
        for event in bench_events
    ]
    try:
        publish_pipelined(amqp_url, EVENTS_EXCHANGE, messages)
    except PublishFailed as error:
        raise BenchFailed(f"publishing the events failed: {error}") from None


def _mean_signed_size(bench_events: list[BenchEvent]) -> int:
    """The mean size of what the consumer verifies: `{id}.{timestamp}.{body}`."""
    total = sum(len(signed_content(event.signed.event_id,
                                   int(event.signed.headers[HEADER_TIMESTAMP]),
                                   event.signed.body))
                for event in bench_events)
    return total // len(bench_events)


def _time_consumer(scratch: Settings, events: int) -> tuple[float, float, int]:
    """Seconds from the consumer's start until the ledger holds every event, its peak RSS,
    and the checkpoints the checkpointer beside it signed meanwhile."""
    environment = {**os.environ, "POINTSLEDGER_DATABASE_URL": scratch.database_url}
    ledger = build(scratch)
    with tempfile.TemporaryFile("w+", encoding="utf-8") as consumer_log, \
            tempfile.TemporaryFile("w+", encoding="utf-8") as checkpointer_log:
        started = time.perf_counter()
        process = subprocess.Popen(  # noqa: S603 (our own interpreter and module)
            [sys.executable, *CONSUMER_COMMAND], env=environment, stdout=consumer_log,
            stderr=subprocess.STDOUT)
        checkpointer = subprocess.Popen(  # noqa: S603 (our own interpreter and module)
            [sys.executable, *CHECKPOINTER_COMMAND],
            env={**environment, "POINTSLEDGER_CHECKPOINT_INTERVAL_S": CHECKPOINT_INTERVAL_S},
            stdout=checkpointer_log, stderr=subprocess.STDOUT)
        try:
            deadline = started + max(WAIT_S_MIN, events / EVENTS_PER_S_FLOOR)
            while (recorded := _entries(ledger.sessions)) < events:
                _check_progress(process, ledger.sessions, recorded, events, deadline,
                                consumer_log)
                time.sleep(POLL_INTERVAL_S)
            seconds = time.perf_counter() - started
            peak_rss_mb = _peak_rss_mb(process.pid)
            _stop(process, consumer_log)
            checkpoints = _await_checkpoint_of(ledger.sessions, events, checkpointer,
                                               checkpointer_log)
            _stop(checkpointer, checkpointer_log, "the checkpointer")
        finally:
            for started_process in (process, checkpointer):
                if started_process.poll() is None:
                    started_process.kill()
                    started_process.wait()
            ledger.close()
    return seconds, peak_rss_mb, checkpoints


def _await_checkpoint_of(sessions: sessionmaker[Session], events: int,
                         checkpointer: subprocess.Popen[bytes], log: IO[str]) -> int:
    """Wait (untimed) until a checkpoint covers every entry; how many were signed in all."""
    deadline = time.perf_counter() + CHECKPOINT_WAIT_S
    while True:
        with sessions() as session:
            largest, count = session.execute(select(
                func.coalesce(func.max(CheckpointRow.size), 0), func.count())
                .where(CheckpointRow.log == LEDGER_LOG)).one()
        if largest >= events:
            return int(count)
        if checkpointer.poll() is not None or time.perf_counter() > deadline:
            raise BenchFailed(f"no checkpoint of all {events} entries was signed (largest: "
                              f"{largest}): {_tail(log)}")
        time.sleep(POLL_INTERVAL_S)


def _entries(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        return session.scalar(select(func.coalesce(func.max(LedgerEntryRow.seq), 0))) or 0


def _check_progress(process: subprocess.Popen[bytes], sessions: sessionmaker[Session],
                    recorded: int, events: int, deadline: float, consumer_log: IO[str]) -> None:
    if process.poll() is not None:
        raise BenchFailed(f"the consumer exited with code {process.returncode} after recording "
                          f"{recorded} of {events} events: {_tail(consumer_log)}")
    if time.perf_counter() > deadline:
        with sessions() as session:
            rejected = session.scalar(select(func.count()).select_from(Rejection))
        raise BenchFailed(f"the ledger holds {recorded} of {events} events ({rejected} rejected) "
                          f"after the time allowed")


def _stop(process: subprocess.Popen[bytes], log: IO[str], name: str = "the consumer") -> None:
    process.send_signal(signal.SIGTERM)
    try:
        code = process.wait(timeout=CONSUMER_STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise BenchFailed(f"{name} did not stop within "
                          f"{CONSUMER_STOP_TIMEOUT_S:.0f} s of SIGTERM") from None
    if code != 0:
        raise BenchFailed(f"{name} exited with code {code} on SIGTERM: {_tail(log)}")


def _peak_rss_mb(pid: int) -> float:
    """The consumer's peak resident memory (VmHWM, Linux), its helper processes included: the
    sum of each one's peak, which is never below the peak of the sum."""
    return sum(_process_peak_rss_kib(process) for process in _process_tree(pid)) / 1024


def _process_tree(pid: int) -> list[int]:
    tree = [pid]
    for process in tree:  # grows while walking: children, then theirs
        children = Path(f"/proc/{process}/task/{process}/children")
        if children.exists():
            tree.extend(int(child) for child in children.read_text(encoding="ascii").split())
    return tree


def _process_peak_rss_kib(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text(encoding="ascii")
    except FileNotFoundError:
        return 0  # it ended between the listing and now
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise BenchFailed("cannot read the consumer's peak memory (VmHWM) from /proc")


def _tail(consumer_log: IO[str]) -> str:
    consumer_log.flush()
    consumer_log.seek(0)
    text = consumer_log.read()
    return text[-CONSUMER_LOG_TAIL_CHARS:].strip() or "(no output)"
