"""Entry point of the `pointsledger` console script."""

from __future__ import annotations

import logging

import click

from ledger.cli import admin

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """pointsledger: township governance points, kept in a tamper-evident ledger."""
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)


for command in admin.COMMANDS:
    cli.add_command(command)


def main() -> None:
    cli()
