"""`pointsledger checkpoints …` and `pointsledger witnesses …`: the ledger's side of the
verifiable log (SPEC §14). The witness a township runs is `pointsledger witness …`."""

from __future__ import annotations

import logging
import signal
from types import FrameType

import click

from ledger.cli.admin import cli_actor
from ledger.cli.common import expected_errors, ledger_context, transaction
from ledger.cli.metrics_option import metrics_listen_option, start_metrics
from ledger.service.checkpoints import LOGS, CheckpointPolicy
from ledger.service.witnesses import add_witness, witness_standings
from ledger.worker.checkpointer import Checkpointer

log = logging.getLogger(__name__)


@click.group()
def checkpoints() -> None:
    """Signed checkpoints of the ledger's and the audit trail's Merkle trees."""


@checkpoints.command("run")
@metrics_listen_option
@expected_errors
def checkpoints_run(metrics_listen: tuple[str, int] | None) -> None:
    """Sign each log's growth within POINTSLEDGER_CHECKPOINT_INTERVAL_S and have every witness
    cosign it, until SIGTERM/SIGINT."""
    start_metrics(metrics_listen)
    with ledger_context() as ledger:
        checkpointer = Checkpointer(
            ledger, CheckpointPolicy.for_interval(ledger.settings.checkpoint_interval_s))

        def request_stop(_signal_number: int, _frame: FrameType | None) -> None:
            checkpointer.stop.request()

        previous = {number: signal.signal(number, request_stop)
                    for number in (signal.SIGTERM, signal.SIGINT)}
        log.info("signing checkpoints of %s at most %d s after the tree grows, and asking "
                 "the witnesses to cosign them",
                 ledger.settings.log_origin, ledger.settings.checkpoint_interval_s)
        try:
            checkpointer.run()
        finally:
            for number, handler in previous.items():
                signal.signal(number, handler)


@checkpoints.command("sign")
@expected_errors
def checkpoints_sign() -> None:
    """Sign each log's tree head now if it grew since its last checkpoint."""
    with ledger_context() as ledger:
        checkpointer = Checkpointer(ledger, CheckpointPolicy(interval_s=0, poll_s=0))
        signed = {row.log: row.size for row in checkpointer.sign_due()}
    for name in LOGS:
        click.echo(f"{name}: signed size {signed[name]}" if name in signed
                   else f"{name}: nothing new to sign")


@click.group()
def witnesses() -> None:
    """The witnesses outside the bank that cosign the ledger's checkpoints."""


@witnesses.command("add")
@click.argument("name")
@click.option("--url", required=True, help="The witness's base URL (it serves /add-checkpoint).")
@click.option("--vkey", required=True, help="The witness's note verifier key.")
@expected_errors
def witnesses_add(name: str, url: str, vkey: str) -> None:
    """Register a witness."""
    with transaction() as (ledger, session):
        add_witness(session, cli_actor(), name, url, vkey, ledger.clock())
    click.echo(f"witness {name} registered")


@witnesses.command("list")
@expected_errors
def witnesses_list() -> None:
    """Each witness and the largest checkpoint of each log it cosigned."""
    with transaction() as (_ledger, session):
        standings = {name: witness_standings(session, name) for name in LOGS}
    for name in LOGS:
        for standing in standings[name]:
            last = "nothing yet" if standing.last_size is None else f"size {standing.last_size}"
            click.echo(f"{standing.name}\t{name}\t{standing.url}\t{last}")
