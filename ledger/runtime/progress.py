"""Progress of long work (verifying the chains, an outside audit, a benchmark's fill, a
migration's back-fill) drawn on a terminal, through rich.

Always on standard error, never standard output, which carries the command's results: and only
when standard error is a terminal, so that a pipe, a log file, cron or a test sees nothing new.
Work reports `(done, total)` through the callback; the bar appears on the first report with
something to do, so work that finds nothing (an empty ledger) draws nothing either.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

# rich is imported only to draw: the services that take a ProgressCallback (in the API's
# workers, the console's jobs) never load it.
if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress, TaskID

ProgressCallback = Callable[[int, int], None]


def ignore_progress(done: int, total: int) -> None:
    """The callback of work nobody watches."""


@contextmanager
def progress_bar(description: str, console: Console | None = None
                 ) -> Iterator[ProgressCallback]:
    """A `(done, total)` callback drawing a bar of `description` on standard error when it is a
    terminal (or on `console` when given and it is one); one that does nothing otherwise."""
    if console is None:
        if not _stderr_is_terminal():
            yield ignore_progress
            return
        from rich.console import Console

        console = Console(stderr=True)
    if not console.is_terminal:
        yield ignore_progress
        return
    bar = _Bar(description, console)
    try:
        yield bar.report
    finally:
        bar.close()


def _stderr_is_terminal() -> bool:
    # Asked of the stream itself: rich would also take FORCE_COLOR or TTY_COMPATIBLE from the
    # environment as a terminal, and CI sets those while stderr goes to a log.
    stream = sys.stderr
    return stream is not None and stream.isatty()


class _Bar:
    def __init__(self, description: str, console: Console) -> None:
        self._description = description
        self._console = console
        self._progress: Progress | None = None
        self._task: TaskID | None = None

    def report(self, done: int, total: int) -> None:
        if self._progress is None:
            if total <= 0:
                return
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            # Neither stream redirected: rich would send what the command prints on standard
            # output through this console, that is to standard error.
            self._progress = Progress(
                TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                TimeElapsedColumn(), TimeRemainingColumn(), console=self._console,
                redirect_stdout=False, redirect_stderr=False)
            self._progress.start()
            self._task = self._progress.add_task(self._description, total=total)
        assert self._task is not None
        self._progress.update(self._task, completed=done, total=total)

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
