"""The platform operator's pages. Every read passes the operator's own platform as a filter,
taken from who signed in, never from the request: nothing here can show another platform's
events, rejections or gaps (SPEC §12)."""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask_babel import lazy_gettext as _l
from wtforms import StringField
from wtforms.validators import DataRequired, Regexp

from ledger.app_context import current_ledger
from ledger.console.access import current_principal, page
from ledger.console.ledger_pages.blueprint import template_helpers
from ledger.console.ledger_pages.filters import (
    EventFilterForm,
    OwnRejectionFilterForm,
    QueryForm,
    blank_as_none,
    pager,
    stripped,
)
from ledger.contract.envelope import EVENT_ID_PATTERN
from ledger.infra.db.models import LedgerEntryRow
from ledger.service.access import platform_scope
from ledger.service.event_status import what_became_of
from ledger.service.ledger_read import EntryFilter, platform_events_page
from ledger.service.paging import Keyset
from ledger.service.platform_seq import platform_overviews
from ledger.service.rejections import RejectionFilter, rejection_of, rejections_page

LATEST_SHOWN = 10

blp = Blueprint("platform", __name__, url_prefix="/platform", template_folder="templates")
blp.context_processor(template_helpers)


class EventLookupForm(QueryForm):
    event_id = StringField(_l("Event ID"), validators=[
        DataRequired(_l("Enter the event's ID.")),
        Regexp(f"^{EVENT_ID_PATTERN.pattern}$",
               message=_l("An event ID is 1 to 64 letters, digits and . _ : -"))],
        filters=[stripped],
        render_kw={"autocomplete": "off", "spellcheck": "false"})


def own_platform() -> str:
    scope = platform_scope(current_principal())
    assert scope is not None, "only a platform operator reaches these pages"
    return scope


@blp.route("")
@page("platform_operator")
def home() -> str:
    platform = own_platform()
    lookup = EventLookupForm()
    with current_ledger().sessions() as session:
        (overview,) = platform_overviews(session, platform)
        outcome = None
        if lookup.asked() and lookup.validate():
            outcome = what_became_of(session, platform, str(lookup.event_id.data))
        latest = Keyset(LATEST_SHOWN, newest_first=True)
        events = platform_events_page(session, platform, latest).items
        rejected = rejections_page(session, latest, RejectionFilter(platform=platform)).items
    return render_template("platform/home.html", overview=overview, lookup=lookup,
                           outcome=outcome, recorded=isinstance(outcome, LedgerEntryRow),
                           events=events, rejected=rejected)


@blp.route("/events")
@page("platform_operator")
def events() -> str:
    form = EventFilterForm()
    where = pager()
    found = None
    if form.validate():
        since, until = form.moments()
        with current_ledger().sessions() as session:
            found = platform_events_page(session, own_platform(), where.keyset, EntryFilter(
                kind=blank_as_none(form.kind.data), recorded_from=since,
                recorded_before=until))
    return render_template("platform/events.html", form=form, found=found, pager=where)


@blp.route("/rejections")
@page("platform_operator")
def rejections() -> str:
    form = OwnRejectionFilterForm()
    where = pager()
    found = None
    if form.validate():
        since, until = form.moments()
        filters = RejectionFilter(platform=own_platform(), reason=blank_as_none(form.reason.data),
                                  received_from=since, received_before=until)
        with current_ledger().sessions() as session:
            found = rejections_page(session, where.keyset, filters)
    return render_template("platform/rejections.html", form=form, found=found, pager=where)


@blp.route("/rejections/<int:rejection_id>")
@page("platform_operator")
def rejection(rejection_id: int) -> str:
    with current_ledger().sessions() as session:
        row = rejection_of(session, rejection_id, RejectionFilter(platform=own_platform()))
    if row is None:
        abort(404)  # another platform's is as good as missing
    return render_template("platform/rejection.html", rejection=row)
