"""Helpers for the broker tests: a real `pointsledger consume` process, publishing signed events
with confirms, reading queue depths and connections, and bounded waits."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

import pika
import psycopg
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from ledger.contract.signing import SignedEvent
from ledger.infra.db.models import LedgerEntryRow, Rejection
from ledger.runtime.pipelined import OutgoingMessage, publish_pipelined
from ledger.runtime.topology import DEAD_EXCHANGE, connection_parameters, declare_topology
from tests.support import POSTGRES_ADMIN_URL, TEST_PEPPER, rabbitmqctl

CONSUMER_COMMAND = (sys.executable, "-c", "from ledger.cli.main import main; main()", "consume")
POLL_INTERVAL_S = 0.05
CONSUMER_START_TIMEOUT_S = 30.0
CONSUMER_STOP_TIMEOUT_S = 30.0


def wait_until(condition: Callable[[], bool], timeout_s: float, what: str,
               interval_s: float = POLL_INTERVAL_S) -> None:
    """Poll until `condition` holds; fail naming `what` after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}")
        time.sleep(interval_s)


def postgres_admin() -> psycopg.Connection[tuple[object, ...]]:
    """An autocommit connection to the server's admin database, to do what an operator does."""
    admin = make_url(POSTGRES_ADMIN_URL)
    return psycopg.connect(host=admin.host, port=admin.port or 5432, user=admin.username,
                           dbname=admin.database, autocommit=True)


def vhost_of(amqp_url: str) -> str:
    return unquote(urlparse(amqp_url).path.lstrip("/"))


def declare(amqp_url: str, platforms: Sequence[str] = ()) -> None:
    connection = pika.BlockingConnection(connection_parameters(amqp_url, "test"))
    try:
        declare_topology(connection.channel(), platforms)
    finally:
        connection.close()


@dataclass(frozen=True)
class Published:
    """What a test sent: the routing key's type, and the signed event (or raw bytes)."""

    event_type: str
    signed: SignedEvent


def publish(amqp_url: str, events: Sequence[Published], platform: str = "lijiayuan") -> None:
    """Every event persistent and confirmed by the broker (pipelined confirms)."""
    publish_pipelined(amqp_url, "pointsledger.events", [
        OutgoingMessage(f"{platform}.{event.event_type}", event.signed.event_id,
                        event.signed.body, event.signed.headers)
        for event in events
    ])


def dead_letter(amqp_url: str, count: int = 1) -> None:
    """What the broker does with a message the consumer failed DELIVERY_LIMIT times: it goes
    to the dead-letter exchange, and waits in pointsledger.dead."""
    connection = pika.BlockingConnection(connection_parameters(amqp_url, "test"))
    try:
        channel = connection.channel()
        channel.confirm_delivery()
        for _ in range(count):
            channel.basic_publish(DEAD_EXCHANGE, "lijiayuan.points.awarded", b"{}",
                                  pika.BasicProperties(delivery_mode=pika.DeliveryMode.Persistent),
                                  mandatory=True)
    finally:
        connection.close()


def ready_messages(amqp_url: str, queue: str) -> int:
    """Messages waiting in the queue now (a passive declare: exact, unlike the statistics)."""
    connection = pika.BlockingConnection(connection_parameters(amqp_url, "test"))
    try:
        return int(connection.channel().queue_declare(queue, passive=True).method.message_count)
    finally:
        connection.close()


def queue_depth(amqp_url: str, queue: str) -> tuple[int, int]:
    """(ready, unacknowledged) messages of a queue, from the broker's statistics, which lag
    by up to `collect_statistics_interval` (5 s): wait for a value rather than read one."""
    output = rabbitmqctl("list_queues", "-q", "--no-table-headers", "-p", vhost_of(amqp_url),
                         "name", "messages_ready", "messages_unacknowledged")
    for line in output.splitlines():
        name, ready, unacked = line.split("\t")
        if name == queue:
            return int(ready), int(unacked)
    raise AssertionError(f"queue {queue} does not exist")


def queue_messages(amqp_url: str, queue: str) -> int:
    ready, unacked = queue_depth(amqp_url, queue)
    return ready + unacked


def connection_pids(amqp_url: str, client_name: str) -> list[str]:
    """The broker's ids of this vhost's connections whose client calls itself `client_name`
    (RabbitMQ 3.10's `close_connection` takes the pid, not the name)."""
    output = rabbitmqctl("list_connections", "-q", "--no-table-headers", "pid", "vhost",
                         "client_properties")
    pids = []
    for line in output.splitlines():
        pid, vhost, properties = line.split("\t", 2)
        if vhost == vhost_of(amqp_url) and f'{{"connection_name","{client_name}"}}' in properties:
            pids.append(pid)
    return pids


def entries(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(LedgerEntryRow)) or 0


def rejections(sessions: sessionmaker[Session]) -> list[str]:
    with sessions() as session:
        return list(session.scalars(select(Rejection.reason).order_by(Rejection.id)))


def consumer_environment(database_url: str, amqp_url: str, tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "POINTSLEDGER_DATABASE_URL": database_url,
        "POINTSLEDGER_AMQP_URL": amqp_url,
        "POINTSLEDGER_RESIDENT_PEPPER": TEST_PEPPER,
        "POINTSLEDGER_LEDGER_KEY_FILE": str(tmp_path / "ledger.key"),
    }


class ConsumerProcess:
    """`pointsledger consume` as a real process; whatever happens, it and its helper end."""

    def __init__(self, environment: dict[str, str], log_path: Path,
                 arguments: Sequence[str] = ()) -> None:
        self._log_path = log_path
        self._log = log_path.open("ab")
        self.process = subprocess.Popen((*CONSUMER_COMMAND, *arguments), env=environment,
                                        stdout=self._log, stderr=subprocess.STDOUT,
                                        cwd=log_path.parent)
        self._children: set[int] = set()

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def connection_name(self) -> str:
        return f"pointsledger-consumer-{self.pid}"

    def log(self) -> str:
        return self._log_path.read_text(encoding="utf-8", errors="replace")

    def alive(self) -> bool:
        return self.process.poll() is None

    def children(self) -> set[int]:
        """Its child processes (the stage-one helper), remembered so they can be waited for."""
        path = Path(f"/proc/{self.pid}/task/{self.pid}/children")
        with contextlib.suppress(FileNotFoundError):
            self._children.update(int(child) for child in path.read_text().split())
        return set(self._children)

    def wait_until_consuming(self, amqp_url: str) -> None:
        wait_until(lambda: not self.alive() or bool(connection_pids(amqp_url,
                                                                    self.connection_name)),
                   CONSUMER_START_TIMEOUT_S, "the consumer to connect")
        assert self.alive(), f"the consumer exited at start:\n{self.log()}"
        wait_until(lambda: "consuming pointsledger.ledger" in self.log(),
                   CONSUMER_START_TIMEOUT_S, "the consumer to start consuming")
        self.children()

    def terminate(self) -> int:
        """SIGTERM, then the exit code (bounded wait)."""
        self.children()
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=CONSUMER_STOP_TIMEOUT_S)

    def kill(self) -> None:
        self.children()
        if self.alive():
            self.process.kill()
        self.process.wait(timeout=CONSUMER_STOP_TIMEOUT_S)

    def wait_for_children_to_end(self) -> None:
        """The helper ends by itself once the consumer is gone (its pipe closes)."""
        wait_until(lambda: not any(Path(f"/proc/{child}").exists()
                                   and _is_running(child) for child in self._children),
                   CONSUMER_STOP_TIMEOUT_S, "the consumer's helper process to end")

    def close(self) -> None:
        try:
            self.kill()
            for child in self._children:
                if _is_running(child):
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(child, signal.SIGKILL)
        finally:
            self._log.close()


def _is_running(pid: int) -> bool:
    """Alive and not a zombie waiting for its parent to collect it."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status


@contextlib.contextmanager
def running_consumer(environment: dict[str, str], log_path: Path,
                     arguments: Sequence[str] = ()) -> Iterator[ConsumerProcess]:
    consumer = ConsumerProcess(environment, log_path, arguments)
    try:
        yield consumer
    finally:
        consumer.close()
