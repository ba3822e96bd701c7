"""Entry point of the `pointsledger` console script."""

from __future__ import annotations

import logging

import click

from ledger.cli import adapter, admin, bench, broker, notices, rules
from ledger.cli.demo import demo
from ledger.cli.serve import serve

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """pointsledger: township governance points, kept in a tamper-evident ledger."""
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)


for command in admin.COMMANDS:
    cli.add_command(command)
for command in (*broker.COMMANDS, *adapter.COMMANDS, *rules.COMMANDS, *notices.COMMANDS):
    cli.add_command(command)
cli.add_command(bench.bench)
cli.add_command(serve)
cli.add_command(demo)


def main() -> None:
    cli()
