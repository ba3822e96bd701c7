"""Shared plumbing for commands: settings errors and service errors become one sentence, exit 2."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.orm import Session

from ledger.bootstrap import Ledger, build
from ledger.cli.usage import EXIT_FAILURE as EXIT_FAILURE
from ledger.cli.usage import EXIT_OK as EXIT_OK
from ledger.cli.usage import EXIT_USAGE as EXIT_USAGE
from ledger.cli.usage import fail as fail
from ledger.service.errors import ServiceError
from ledger.settings import SettingsError

# The exit codes and `fail` are re-exported above for the commands that import them from here;
# they live in ledger.cli.usage so that a command without the database (`witness`) has them too.

F = TypeVar("F", bound=Callable[..., Any])


def expected_errors(command: F) -> F:
    """Expected errors end the command with one sentence on stderr, never a traceback."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except SettingsError as error:
            fail(str(error))
        except ServiceError as error:
            fail(_with_field_errors(error))
        except (OperationalError, ProgrammingError) as error:
            fail(_database_problem(error), EXIT_FAILURE)

    return wrapper  # type: ignore[return-value]


def _with_field_errors(error: ServiceError) -> str:
    """The sentence, and what is wrong with each field, on the same line."""
    if not error.errors:
        return str(error)
    return f"{error}: " + "; ".join(f"{field}: {message}"
                                    for field, message in error.errors.items())


def _database_problem(error: OperationalError | ProgrammingError) -> str:
    """One sentence; the driver's message never holds the URL's password."""
    text = str(error.orig or error).strip()
    first_line = text.splitlines()[0] if text else type(error).__name__
    if isinstance(error, ProgrammingError) or "no such table" in first_line:
        return f"the database is not migrated (run `pointsledger db upgrade`): {first_line}"
    return f"the database cannot be reached: {first_line}"


@contextmanager
def ledger_context() -> Iterator[Ledger]:
    ledger = build()
    try:
        yield ledger
    finally:
        ledger.close()


@contextmanager
def transaction() -> Iterator[tuple[Ledger, Session]]:
    """A ledger and a session whose transaction commits when the block ends without error."""
    with ledger_context() as ledger, ledger.sessions.begin() as session:
        yield ledger, session
