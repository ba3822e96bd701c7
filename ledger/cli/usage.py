"""Exit codes, one-sentence failures and argument parsing for every command, without the
ledger's database: `pointsledger witness`, which a township runs on its own machine, needs
these and nothing of the ledger's bootstrap."""

from __future__ import annotations

import sys
from typing import NoReturn

import click

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
PORT_MAX = 65535


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def listen_address(text: str, option: str = "--listen") -> tuple[str, int]:
    """HOST:PORT as a socket address (port 0: any free port); one sentence and exit 2 else."""
    host, _, port = text.rpartition(":")
    if not host or not (port.isascii() and port.isdigit()) or not 0 <= int(port) <= PORT_MAX:
        fail(f"{option} must be HOST:PORT, not {text!r}")
    return host, int(port)
