"""The `--metrics-listen HOST:PORT` option of the long-running commands (SPEC §15)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import click

from ledger.cli.usage import EXIT_FAILURE, fail, listen_address
from ledger.runtime.metrics_server import MetricsServer, serve_metrics

OPTION = "--metrics-listen"

Command = TypeVar("Command", bound=Callable[..., object])


def _parsed(_context: click.Context, _parameter: click.Parameter,
            text: str | None) -> tuple[str, int] | None:
    # Parsed with the other options, so that a bad value is refused before anything starts.
    return None if text is None else listen_address(text, OPTION)


def metrics_listen_option(command: Command) -> Command:
    """Adds `metrics_listen: tuple[str, int] | None` to the command's arguments."""
    return click.option(OPTION, "metrics_listen", metavar="HOST:PORT", callback=_parsed,
                        help="serve this process's Prometheus metrics at "
                             "http://HOST:PORT/metrics (unset: no metrics server)")(command)


def start_metrics(address: tuple[str, int] | None) -> MetricsServer | None:
    """The metrics server of the option's address, if given; one sentence and exit 1 when that
    address cannot be bound (taken, or not this machine's)."""
    if address is None:
        return None
    try:
        return serve_metrics(address)
    except OSError as error:
        host, port = address
        fail(f"cannot serve metrics on {host}:{port}: {error.strerror or error}", EXIT_FAILURE)
