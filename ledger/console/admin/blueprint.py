"""The admin area's blueprint and what its pages share: each POST is one audited change made as
the signed-in admin, refused as a whole or made as a whole, then a redirect to a page that says
what was done."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Blueprint, flash, redirect, request
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from ledger.app_context import current_ledger
from ledger.console.access import current_principal
from ledger.console.admin.refusals import Explanation, explain, status_of
from ledger.console.admin.text import _
from ledger.service.errors import ServiceError
from ledger.service.passwords import PASSWORD_LENGTH_MIN

blp = Blueprint("admin", __name__, url_prefix="/admin", template_folder="templates")

NOTICE = "notice"  # the flash category of a change that was made
PAGE_SIZE = 100  # rows of a list (users, tokens) on one page
CURSOR_MAX = 2**63 - 1  # as the API's cursors

# Draws the page again with a message at its top and an HTTP status.
Redraw = Callable[[str | None, int], tuple[str, int]]


@dataclass(frozen=True)
class Change:
    """One transaction of one admin's change: the audit trail names `actor`."""

    session: Session
    now: datetime
    actor: str


@contextmanager
def change() -> Iterator[Change]:
    """Everything done inside is committed together or, on a refusal (a ServiceError raised
    by the service layer), rolled back: nothing changes."""
    ledger = current_ledger()
    with ledger.sessions.begin() as session:
        yield Change(session, ledger.clock(), current_principal().username)


@contextmanager
def reading() -> Iterator[Session]:
    with current_ledger().sessions() as session:
        yield session


def submit(form: Any, work: Callable[[Change], str], redraw: Redraw, then: str,
           explanation: Callable[[ServiceError], Explanation]) -> Response | tuple[str, int]:
    """Check the form, make the change, and go to `then` saying what `work` said was done; or
    draw the page again with the form's problems or the service's refusal, nothing changed."""
    if not form.validate_on_submit():
        return redraw(_("Correct what is shown beside the fields."), 422)
    try:
        with change() as made:
            notice = work(made)
    except ServiceError as error:
        return redraw(explain(error, form, explanation(error)), status_of(error))
    flash(notice, NOTICE)
    return redirect(then)


def cursor() -> int:
    """The `after` of a list's page: from the address, within what the service takes."""
    after = request.args.get("after", 0, type=int) or 0
    return min(max(after, 0), CURSOR_MAX)


def moment(text: str | None) -> datetime | None:
    """A time of a service document (RFC 3339), for the page to show in Asia/Shanghai."""
    return None if text is None else datetime.fromisoformat(text)


@blp.context_processor
def _policy() -> dict[str, Any]:
    # The hints beside password fields state the policy's figures, not copies of them.
    return {"password_length_min": PASSWORD_LENGTH_MIN}
