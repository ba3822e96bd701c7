"""`pointsledger bench …`: the benchmarks of SPEC §11, each printing one JSON object."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from typing import Any, Protocol

import click

from ledger.bench.audit import ENTRIES_DEFAULT as AUDIT_ENTRIES_DEFAULT
from ledger.bench.audit import run_audit_bench
from ledger.bench.console import REQUESTS_DEFAULT as CONSOLE_REQUESTS_DEFAULT
from ledger.bench.console import REQUESTS_MAX as CONSOLE_REQUESTS_MAX
from ledger.bench.console import RESIDENTS_DEFAULT as CONSOLE_RESIDENTS_DEFAULT
from ledger.bench.console import run_console_bench
from ledger.bench.import_export import BYTES_PER_MEGABYTE, MEGABYTES_DEFAULT, run_import_bench
from ledger.bench.ingest import (
    EVENTS_DEFAULT,
    BenchFailed,
    BenchRefused,
    run_ingest_bench,
)
from ledger.bench.proofs import LEAVES_DEFAULT as PROOFS_LEAVES_DEFAULT
from ledger.bench.proofs import REQUESTS_DEFAULT as PROOFS_REQUESTS_DEFAULT
from ledger.bench.proofs import run_proofs_bench
from ledger.bench.publish import EVENTS_DEFAULT as PUBLISH_EVENTS_DEFAULT
from ledger.bench.publish import ROUNDS_DEFAULT, run_publish_bench
from ledger.bench.scratch_database import ScratchDatabaseError
from ledger.bench.simulate import RESIDENTS_DEFAULT as SIMULATE_RESIDENTS_DEFAULT
from ledger.bench.simulate import ROUNDS_DEFAULT as SIMULATE_ROUNDS_DEFAULT
from ledger.bench.simulate import run_simulate_bench
from ledger.bench.terms import REQUESTS_DEFAULT, REQUESTS_MAX, run_terms_bench
from ledger.bench.terms import RESIDENTS_DEFAULT as TERMS_RESIDENTS_DEFAULT
from ledger.cli.broker import broker_settings, quiet_broker_client_logs
from ledger.cli.common import EXIT_FAILURE, expected_errors, fail
from ledger.settings import Settings

EVENTS_MAX = 1_000_000
# A county is about 1.5 million residents (DOMAIN.md): room for one, no more.
RESIDENTS_MAX = 2_000_000
ROUNDS_MAX = 10
EXPORT_MEGABYTES_MAX = 1000
# About a gigabyte of cached log per million entries.
AUDIT_ENTRIES_MAX = 5_000_000
PROOFS_LEAVES_MAX = 100_000_000
PROOFS_REQUESTS_MAX = 100_000


class _Figures(Protocol):
    def document(self) -> dict[str, Any]: ...


def _print_figures(run: Callable[[], _Figures]) -> None:
    """Run a bench and print its figures; a refusal exits 2, a failed measurement exits 1."""
    try:
        result = run()
    except BenchRefused as error:
        fail(str(error))
    except (BenchFailed, ScratchDatabaseError) as error:
        fail(str(error), code=EXIT_FAILURE)
    click.echo(json.dumps(result.document()))


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
    _print_figures(lambda: run_ingest_bench(settings, events))


@bench.command("publish")
@click.option("--events", default=PUBLISH_EVENTS_DEFAULT, show_default=True,
              type=click.IntRange(1, EVENTS_MAX), help="How many outbox events to publish.")
@click.option("--rounds", default=ROUNDS_DEFAULT, show_default=True,
              type=click.IntRange(1, ROUNDS_MAX),
              help="Adapter and yardstick runs each, alternating; the best of each counts.")
@click.option("--outbox", "outbox_url", metavar="URL",
              help="a PostgreSQL URL: the outbox goes to a scratch database created and dropped "
                   "on that server (default: a temporary SQLite file)")
@expected_errors
def bench_publish(events: int, rounds: int, outbox_url: str | None) -> None:
    """An adapter publishing its outbox with confirms, against bare pika publishing the same
    bytes with the same window of pipelined confirms.

    Needs POINTSLEDGER_AMQP_URL (a vhost of its own: its ledger queue must be idle, as the
    bench purges what it publishes there) and POINTSLEDGER_RESIDENT_PEPPER.
    """
    quiet_broker_client_logs()
    logging.getLogger("alembic").setLevel(logging.WARNING)
    settings, _amqp_url = broker_settings()
    _print_figures(lambda: run_publish_bench(settings, events, rounds, outbox_url))


@bench.command("terms")
@click.option("--residents", default=TERMS_RESIDENTS_DEFAULT, show_default=True,
              type=click.IntRange(1, RESIDENTS_MAX), help="How many residents to fill in.")
@click.option("--requests", default=REQUESTS_DEFAULT, show_default=True,
              type=click.IntRange(1, REQUESTS_MAX),
              help="How many timed credit-terms answers to ask for, for random residents.")
@expected_errors
def bench_terms(residents: int, requests: int) -> None:
    """Credit-terms answers per second and their latency, through the HTTP API in-process, over
    a county of residents with a year of contribution and their ledger entries.

    Needs a PostgreSQL POINTSLEDGER_DATABASE_URL, on whose server a scratch database is created,
    filled and dropped; real data is never touched.
    """
    logging.getLogger("alembic").setLevel(logging.WARNING)
    _print_figures(lambda: run_terms_bench(Settings.from_environment(), residents, requests))


@bench.command("simulate")
@click.option("--residents", default=SIMULATE_RESIDENTS_DEFAULT, show_default=True,
              type=click.IntRange(1, RESIDENTS_MAX), help="How many residents to fill in.")
@click.option("--rounds", default=SIMULATE_ROUNDS_DEFAULT, show_default=True,
              type=click.IntRange(1, ROUNDS_MAX),
              help="Simulation and yardstick runs each, alternating; the best of each counts.")
@expected_errors
def bench_simulate(residents: int, rounds: int) -> None:
    """A rule-set simulation (a change against the active default) over a county of residents,
    against one GROUP BY resident sum over the same monthly contribution table.

    Needs a PostgreSQL POINTSLEDGER_DATABASE_URL, on whose server a scratch database is created,
    filled and dropped; real data is never touched.
    """
    logging.getLogger("alembic").setLevel(logging.WARNING)
    _print_figures(lambda: run_simulate_bench(Settings.from_environment(), residents, rounds))


@bench.command("import")
@click.option("--megabytes", default=MEGABYTES_DEFAULT, show_default=True,
              type=click.IntRange(1, EXPORT_MEGABYTES_MAX),
              help="The size of the simulated 南阳young export.")
@expected_errors
def bench_import(megabytes: int) -> None:
    """A large 南阳young export imported by the adapter's inbox in a process of its own, its pump
    publishing meanwhile: seconds, records/s, and the process's peak resident memory.

    Needs nothing running: the export, the inbox and the outbox are scratch files.
    """
    _print_figures(lambda: run_import_bench(megabytes * BYTES_PER_MEGABYTE))


@bench.command("console")
@click.option("--residents", default=CONSOLE_RESIDENTS_DEFAULT, show_default=True,
              type=click.IntRange(1, RESIDENTS_MAX), help="How many residents to fill in.")
@click.option("--requests", default=CONSOLE_REQUESTS_DEFAULT, show_default=True,
              type=click.IntRange(1, CONSOLE_REQUESTS_MAX),
              help="How many timed requests of each page.")
@expected_errors
def bench_console(residents: int, requests: int) -> None:
    """The console's main pages (counter look-up and redemption, a resident's entries, the
    ledger's entries, rejections, the audit trail, a simulation) over a county with 13 months
    of history, served by gunicorn while `pointsledger consume` ingests 200 events per second:
    p50, p95 and p99 per page.

    Needs POINTSLEDGER_AMQP_URL (a vhost of its own: its ledger queue must be idle) and a
    PostgreSQL POINTSLEDGER_DATABASE_URL, on whose server a scratch database is created,
    filled and dropped; real data is never touched. Run it from the directory of wsgi.py.
    """
    if not os.environ.get("POINTSLEDGER_AMQP_URL"):
        # Checked before the settings are read: a refused run leaves nothing behind (the
        # embedded mode would make a pepper file).
        fail("bench console needs POINTSLEDGER_AMQP_URL (a vhost of its own): the consumer "
             "ingests live events from it while the pages are timed")
    quiet_broker_client_logs()
    logging.getLogger("alembic").setLevel(logging.WARNING)
    _print_figures(lambda: run_console_bench(Settings.from_environment(), residents, requests))


@bench.command("audit")
@click.option("--entries", default=AUDIT_ENTRIES_DEFAULT, show_default=True,
              type=click.IntRange(1, AUDIT_ENTRIES_MAX), help="How many entries to audit.")
@expected_errors
def bench_audit(entries: int) -> None:
    """`pointsledger audit --full` over a log of signed entries served over HTTP in-process,
    against SHA-256 of the same entry bytes plus Ed25519 verification of the same signatures
    on one core.

    Needs nothing running. The log is generated once into the system's temporary directory
    (about 1 GB per million entries, reused by later runs of the same size).
    """
    _print_figures(lambda: run_audit_bench(entries))


@bench.command("proofs")
@click.option("--leaves", default=PROOFS_LEAVES_DEFAULT, show_default=True,
              type=click.IntRange(1, PROOFS_LEAVES_MAX), help="How many leaves the tree holds.")
@click.option("--requests", default=PROOFS_REQUESTS_DEFAULT, show_default=True,
              type=click.IntRange(1, PROOFS_REQUESTS_MAX), help="How many proofs of each kind.")
@expected_errors
def bench_proofs(leaves: int, requests: int) -> None:
    """Inclusion and consistency proofs answered by the API over a tree of N leaves: p50 and
    p99 per kind (SPEC §14: < 10 ms at 1 000 000).

    Needs a PostgreSQL POINTSLEDGER_DATABASE_URL, on whose server a scratch database is
    created, filled with the tree and signed checkpoints, and dropped.
    """
    logging.getLogger("alembic").setLevel(logging.WARNING)
    _print_figures(lambda: run_proofs_bench(Settings.from_environment(), leaves, requests))
