"""Entry point of the `pointsledger` console script.

Each command's module is imported only when that command runs (click's lazy subcommands): the
long-running `consume` then carries neither Flask nor the rules engine, which keeps it smaller
(about 25 MB) and quicker to start.
"""

from __future__ import annotations

import importlib
import logging

import click

from ledger.cli.usage import fail
from ledger.runtime.log_format import LogFormatError, configure_logging, log_format_from_environment

# Command name → "module:attribute" of its click command.
COMMANDS = {
    "adapter": "ledger.cli.adapter:adapter",
    "amqp": "ledger.cli.broker:amqp",
    "audit": "ledger.cli.audit:audit",
    "bench": "ledger.cli.bench:bench",
    "checkpoints": "ledger.cli.verifiable_log:checkpoints",
    "branches": "ledger.cli.admin:branches",
    "consume": "ledger.cli.broker:consume",
    "db": "ledger.cli.admin:db",
    "demo": "ledger.cli.demo:demo",
    "keys": "ledger.cli.admin:keys",
    "notices": "ledger.cli.notices:notices",
    "platforms": "ledger.cli.admin:platforms",
    "residents": "ledger.cli.admin:residents",
    "rules": "ledger.cli.rules:rules",
    "serve": "ledger.cli.serve:serve",
    "simulate": "ledger.cli.adapter:simulate",
    "status": "ledger.cli.status:status",
    "tokens": "ledger.cli.admin:tokens",
    "users": "ledger.cli.admin:users",
    "verify": "ledger.cli.admin:verify",
    "witness": "ledger.cli.witness:witness",
    "witnesses": "ledger.cli.verifiable_log:witnesses",
}


class LazyGroup(click.Group):
    """A group whose commands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, _, attribute = target.partition(":")
        command = getattr(importlib.import_module(module_name), attribute)
        assert isinstance(command, click.Command), target
        return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """pointsledger: township governance points, kept in a tamper-evident ledger."""
    # Before any command reads its settings: a command that fails on a setting still logs in the
    # format asked for. Every line of every command, whichever library writes it, passes the
    # redaction (ID numbers, tokens, keys, passwords).
    try:
        log_format = log_format_from_environment()
    except LogFormatError as error:
        fail(str(error))
    configure_logging(log_format, logging.INFO)


def main() -> None:
    cli()
