"""Progress of long work: a bar on a terminal's standard error, nothing anywhere else."""

from __future__ import annotations

import io
import sys

import click
from click.testing import CliRunner
from rich.console import Console

from ledger.runtime.progress import progress_bar


def _terminal() -> tuple[Console, io.StringIO]:
    screen = io.StringIO()
    return Console(file=screen, force_terminal=True, width=100), screen


def test_a_terminal_sees_a_bar_with_the_counts() -> None:
    console, screen = _terminal()
    with progress_bar("entries checked", console=console) as progress:
        progress(0, 40)
        progress(40, 40)
    drawn = screen.getvalue()
    assert "entries checked" in drawn
    assert "40/40" in drawn


def test_nothing_is_drawn_on_a_console_that_is_not_a_terminal() -> None:
    screen = io.StringIO()
    with progress_bar("entries checked", Console(file=screen, force_terminal=False)) as progress:
        progress(7, 40)
    assert screen.getvalue() == ""


def test_work_with_nothing_to_do_draws_nothing() -> None:
    console, screen = _terminal()
    with progress_bar("entries checked", console=console) as progress:
        progress(0, 0)
    assert screen.getvalue() == ""


def test_a_command_whose_streams_are_not_terminals_prints_only_its_results() -> None:
    @click.command()
    def count() -> None:
        with progress_bar("counted") as progress:
            for done in range(1, 4):
                progress(done, 3)
        click.echo("3 counted")

    result = CliRunner().invoke(count)
    assert result.exit_code == 0, result.output
    assert result.stdout == "3 counted\n"
    assert result.stderr == ""


def test_the_bar_never_takes_what_the_command_prints_on_standard_output() -> None:
    console, screen = _terminal()
    printed = io.StringIO()
    original = sys.stdout
    sys.stdout = printed
    try:
        with progress_bar("counted", console=console) as progress:
            progress(1, 2)
            print("a result")
            progress(2, 2)
    finally:
        sys.stdout = original
    assert printed.getvalue() == "a result\n"
    assert "a result" not in screen.getvalue()
