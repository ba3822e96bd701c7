"""`pointsledger bench …`: the benchmarks of SPEC §11, each printing one JSON object."""

from __future__ import annotations

import json
import logging

import click

from ledger.bench.ingest import (
    EVENTS_DEFAULT,
    BenchFailed,
    BenchRefused,
    run_ingest_bench,
)
from ledger.bench.scratch_database import ScratchDatabaseError
from ledger.cli.broker import broker_settings, quiet_broker_client_logs
from ledger.cli.common import EXIT_FAILURE, expected_errors, fail

EVENTS_MAX = 1_000_000


@click.group()
def bench() -> None:
    """Benchmarks; each prints one JSON object with its figures and its yardstick."""


@bench.command("ingest")
@click.option("--events", default=EVENTS_DEFAULT, show_default=True,
              type=click.IntRange(1, EVENTS_MAX), help="How many signed events to queue.")
@expected_errors
def bench_ingest(events: int) -> None:
    """Queued signed events → verified, appended and acked by `pointsledger consume`.

    Needs POINTSLEDGER_AMQP_URL (a vhost of its own: its ledger queue must be idle) and a
    PostgreSQL POINTSLEDGER_DATABASE_URL, on whose server a scratch database is created and
    dropped; real data is never touched.
    """
    quiet_broker_client_logs()
    logging.getLogger("alembic").setLevel(logging.WARNING)
    settings, _amqp_url = broker_settings()
    try:
        result = run_ingest_bench(settings, events)
    except BenchRefused as error:
        fail(str(error))
    except (BenchFailed, ScratchDatabaseError) as error:
        fail(str(error), code=EXIT_FAILURE)
    click.echo(json.dumps(result.document()))
