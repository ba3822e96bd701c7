"""Broker commands: `pointsledger amqp setup` and `pointsledger consume` (SPEC §3, §5)."""

from __future__ import annotations

import gc
import logging
import os
import signal
from types import FrameType

import click
import pika
import pika.exceptions
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from prometheus_client import REGISTRY
from sqlalchemy.exc import SQLAlchemyError

from ledger.bootstrap import Ledger
from ledger.cli.common import expected_errors, fail, ledger_context
from ledger.cli.metrics_option import metrics_listen_option, start_metrics
from ledger.infra.db.locks import ConsumerLock
from ledger.infra.db.migrate import alembic_config
from ledger.runtime.broker import BrokerAccessRefused, describe_broker_error
from ledger.runtime.topology import (
    DEAD_QUEUE,
    EVENTS_EXCHANGE,
    LEDGER_QUEUE,
    OUTBOUND_EXCHANGE,
    connection_parameters,
    declare_topology,
    outbound_queue,
)
from ledger.service import registry
from ledger.settings import Settings
from ledger.worker.ingestion import database_unavailable
from ledger.worker.loop import LedgerConsumer
from ledger.worker.queue_gauges import QueueGauges
from ledger.worker.verifying import StageOneAhead

log = logging.getLogger(__name__)

SETUP_CONNECTION_ROLE = "setup"


def quiet_broker_client_logs() -> None:
    """pika narrates every connection step at INFO, and logs each failed reconnect as about eight
    ERROR lines. Our callers say it once in their own words (`describe_broker_error`) and retry,
    so pika keeps only what it cannot recover from."""
    logging.getLogger("pika").setLevel(logging.CRITICAL)


def broker_settings() -> tuple[Settings, str]:
    """The settings and the broker URL; without one, a sentence and exit 2 (checked first, so
    that a refused command leaves nothing behind, such as an embedded-mode pepper file)."""
    if not os.environ.get("POINTSLEDGER_AMQP_URL"):
        fail("POINTSLEDGER_AMQP_URL must be set to the RabbitMQ URL "
             "(amqp://user:password@host:5672/vhost)")
    settings = Settings.from_environment()
    assert settings.amqp_url is not None
    return settings, settings.amqp_url


def platform_codes(ledger: Ledger) -> list[str]:
    with ledger.sessions() as session:
        return [platform.code for platform in registry.list_platforms(session)]


@click.group()
def amqp() -> None:
    """RabbitMQ topology."""


@amqp.command("setup")
@expected_errors
def amqp_setup() -> None:
    """Declare the exchanges and queues of the ledger (idempotent)."""
    quiet_broker_client_logs()
    _settings, amqp_url = broker_settings()
    with ledger_context() as ledger:
        platforms = platform_codes(ledger)
    try:
        connection = pika.BlockingConnection(connection_parameters(amqp_url,
                                                                   SETUP_CONNECTION_ROLE))
    except (pika.exceptions.AMQPError, OSError) as error:
        fail(f"cannot use RabbitMQ: {describe_broker_error(error)}", code=1)
    try:
        declare_topology(connection.channel(), platforms)
    except pika.exceptions.AMQPError as error:
        fail(f"declaring the topology failed: {describe_broker_error(error)}", code=1)
    finally:
        if connection.is_open:
            connection.close()
    for name in (EVENTS_EXCHANGE, LEDGER_QUEUE, DEAD_QUEUE, OUTBOUND_EXCHANGE,
                 *(outbound_queue(platform) for platform in platforms)):
        click.echo(f"declared {name}")


@click.command("consume")
@metrics_listen_option
@expected_errors
def consume(metrics_listen: tuple[str, int] | None) -> None:
    """Run the ledger consumer until SIGTERM/SIGINT (finishes the messages in hand, exit 0)."""
    quiet_broker_client_logs()
    logging.getLogger("alembic").setLevel(logging.WARNING)
    settings, amqp_url = broker_settings()
    metrics = start_metrics(metrics_listen)
    with ledger_context() as ledger:
        _require_current_schema(ledger)
        if metrics is not None:
            REGISTRY.register(QueueGauges(amqp_url, lambda: platform_codes(ledger)))
        stage_one = StageOneAhead(ledger.ingestor, ledger.clock, settings.clock_skew_s)
        consumer = LedgerConsumer(amqp_url, ledger.ingestor, lambda: platform_codes(ledger),
                                  stage_one, ConsumerLock(ledger.engine))

        def request_stop(_signal_number: int, _frame: FrameType | None) -> None:
            consumer.stop()

        previous = {number: signal.signal(number, request_stop)
                    for number in (signal.SIGTERM, signal.SIGINT)}
        _freeze_startup_objects()
        try:
            consumer.run()
        except BrokerAccessRefused as error:
            fail(str(error))
        finally:
            for number, handler in previous.items():
                signal.signal(number, handler)


def _freeze_startup_objects() -> None:
    """The objects made so far (modules, mappings, the engine) live as long as the process:
    `gc.freeze` keeps every later collection from walking them again while batches are in hand.
    """
    gc.collect()
    gc.freeze()


def _require_current_schema(ledger: Ledger) -> None:
    """An unmigrated database would fail every batch, and the delivery limit would then
    dead-letter every event: refuse to start instead. An unreachable database is an outage,
    which the consumer waits out."""
    heads = set(ScriptDirectory.from_config(alembic_config(ledger.settings.database_url))
                .get_heads())
    try:
        with ledger.engine.connect() as connection:
            current = set(MigrationContext.configure(connection).get_current_heads())
    except SQLAlchemyError as error:
        if not database_unavailable(error):
            raise
        log.warning("the database is unavailable (%s); consuming anyway, messages stay unacked "
                    "until it is back", type(error).__name__)
        return
    if current != heads:
        fail("the database of POINTSLEDGER_DATABASE_URL is not at the latest schema; "
             "run `pointsledger db upgrade` first")


COMMANDS = (amqp, consume)
