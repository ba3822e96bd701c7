"""Counters that move only when what they count is committed (SPEC §15): a redemption or a
decision counted inside its transaction would be counted even when the commit fails or the
request rolls it back, and the counter would drift from the database it describes."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import event
from sqlalchemy.orm import Session

_PENDING = "pointsledger_counted_on_commit"


def count_on_commit(session: Session, increment: Callable[[], None]) -> None:
    """Call `increment` once the session's current transaction commits; never if it rolls
    back."""
    session.info.setdefault(_PENDING, []).append(increment)


@event.listens_for(Session, "after_commit")
def _run_pending(session: Session) -> None:
    # Invoked for the outermost transaction only: a savepoint's release counts nothing yet.
    for increment in session.info.pop(_PENDING, ()):
        increment()


@event.listens_for(Session, "after_rollback")
def _drop_pending(session: Session) -> None:
    session.info.pop(_PENDING, None)
