"""The console script's commands are loaded on demand, and every one of them is there."""

from __future__ import annotations

import subprocess
import sys

import click
from click.testing import CliRunner

from ledger.cli.main import COMMANDS, cli


def test_every_listed_command_loads_under_its_own_name() -> None:
    context = click.Context(cli)
    for name in COMMANDS:
        command = cli.get_command(context, name)
        assert command is not None and command.name == name


def test_help_lists_every_command() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    listed = {line.split()[0] for line in result.output.split("Commands:")[1].splitlines()
              if line.strip()}
    assert listed == set(COMMANDS)


def test_the_consumer_carries_neither_the_http_api_nor_the_rules_engine() -> None:
    """What keeps the long-running consumer under its memory target."""
    probe = ("import sys, click; from ledger.cli.main import cli; "
             "cli.get_command(click.Context(cli), 'consume'); "
             "print(sorted(m for m in ('flask', 'marshmallow', 'ledger.service.rules') "
             "if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "[]"
