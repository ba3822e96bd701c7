"""`pointsledger status`: one JSON object an operator, a cron job or a monitoring agent reads
(SPEC §15), and exit 1 when something needs a person, each cause named in `problems` and on
stderr."""

from __future__ import annotations

import json

import click

from ledger.cli.common import EXIT_FAILURE, expected_errors, ledger_context
from ledger.service.status import gather_status


@click.command()
@expected_errors
def status() -> None:
    """Print the ledger's state as one JSON object; exit 1 when something needs a person."""
    with ledger_context() as ledger:
        found = gather_status(ledger.sessions, ledger.settings.amqp_url, ledger.clock())
    click.echo(json.dumps(found.as_document(), ensure_ascii=False, indent=2))
    if not found.healthy:
        for problem in found.problems:
            click.echo(problem.sentence, err=True)
        raise SystemExit(EXIT_FAILURE)
