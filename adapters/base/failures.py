"""Which failures an adapter waits out, and which stop it (SPEC §10).

An adapter that goes on running with one of its threads dead is worse than one that stops: it
looks healthy while it publishes nothing. So each thread retries only what passes by itself (the
outbox busy with another writer, the database or the broker restarting) and lets anything else
end the process with a non-zero exit, for its supervisor to restart it and an operator to see.
"""

from __future__ import annotations

import sqlite3
import traceback

from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from ledger.contract.personal_data import mask_id_numbers

# SQLite primary result codes (the low byte of the extended code): another connection holds
# the lock it needs. Anything else (no such table, disk image malformed, read-only) will not pass.
SQLITE_BUSY = 5
SQLITE_LOCKED = 6
SQLITE_PRIMARY_CODE_MASK = 0xFF
# PostgreSQL SQLSTATE classes and codes that pass: the connection (08), a serialization failure
# or deadlock (40), the server out of resources (53), shutting down or starting (57P01-57P03),
# a lock not available (55P03), a statement timeout (57014).
TRANSIENT_SQLSTATE_CLASSES = frozenset({"08", "40", "53"})
TRANSIENT_SQLSTATES = frozenset({"55P03", "57014", "57P01", "57P02", "57P03"})


class AdapterFailed(Exception):
    """A thread of the adapter failed in a way it cannot retry: the process must stop."""


def is_transient(error: BaseException) -> bool:
    """True for an outbox failure that retrying later can get past."""
    if isinstance(error, DisconnectionError | PoolTimeoutError):
        return True
    if not isinstance(error, DBAPIError):
        return False
    if error.connection_invalidated:
        return True
    original = error.orig
    if isinstance(original, sqlite3.Error):
        code = getattr(original, "sqlite_errorcode", None)
        if code is None:  # raised without its code: only the message tells
            return "locked" in str(original)
        return code & SQLITE_PRIMARY_CODE_MASK in (SQLITE_BUSY, SQLITE_LOCKED)
    sqlstate = getattr(original, "sqlstate", None)
    if sqlstate is None:
        # psycopg raises its OperationalError without a state when it cannot connect at all.
        return type(original).__name__ == "OperationalError"
    return sqlstate[:2] in TRANSIENT_SQLSTATE_CLASSES or sqlstate in TRANSIENT_SQLSTATES


def described(error: BaseException) -> str:
    """One line for a log or an exit message: the class and its message, ID numbers masked
    (a driver's message may quote the statement's values)."""
    message = str(error).strip().splitlines()[0] if str(error).strip() else ""
    text = f"{type(error).__name__}: {message}" if message else type(error).__name__
    return mask_id_numbers(text)


def masked_traceback(error: BaseException) -> str:
    """The traceback of an unexpected failure, for the log, ID numbers masked."""
    return mask_id_numbers("".join(traceback.format_exception(error)).rstrip())
