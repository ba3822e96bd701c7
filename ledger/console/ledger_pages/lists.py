"""The ledger's lists for an auditor: entries, rejections, platforms with their gaps, and the
audit trail, each newest first with its filters; an entry's and a rejection's own page."""

from __future__ import annotations

from flask import abort, render_template

from ledger.app_context import current_ledger
from ledger.console.access import page
from ledger.console.ledger_pages.blueprint import as_json, blp
from ledger.console.ledger_pages.filters import (
    AuditFilterForm,
    EntryFilterForm,
    RejectionFilterForm,
    blank_as_none,
    pager,
    platform_choices,
)
from ledger.console.ledger_pages.labels import ledger_fault
from ledger.service.audit_trail import AuditFilter, audit_page
from ledger.service.chain_audit import UNREADABLE_ENTRY_ERRORS, ChainFault
from ledger.service.ledger_read import EntryFilter, entries_page, entry_at, entry_from_row
from ledger.service.platform_seq import platform_overviews
from ledger.service.registry import list_platforms
from ledger.service.rejections import RejectionFilter, rejection_of, rejections_page


@blp.route("/entries")
@page("auditor")
def entries() -> str:
    form = EntryFilterForm()
    where = pager()
    with current_ledger().sessions() as session:
        form.platform.choices = platform_choices(list_platforms(session))
        if not form.validate():
            return render_template("ledger/entries.html", form=form, found=None, pager=where)
        since, until = form.moments()
        filters = EntryFilter(platform=blank_as_none(form.platform.data),
                              kind=blank_as_none(form.kind.data),
                              recorded_from=since, recorded_before=until)
        found = entries_page(session, where.keyset, filters)
    return render_template("ledger/entries.html", form=form, found=found, pager=where)


@blp.route("/entries/<int:seq>")
@page("auditor")
def entry(seq: int) -> str:
    try:
        with current_ledger().sessions() as session:
            row = entry_at(session, seq)
            document = None if row is None else entry_from_row(row).document()
    except UNREADABLE_ENTRY_ERRORS:
        # Changed behind the ledger's back into something that is no entry: say so, as
        # `Verify` does, rather than fail.
        return render_template("ledger/entry.html", seq=seq, entry=None,
                               unreadable=ledger_fault(ChainFault.UNREADABLE, seq))
    if row is None:
        abort(404)
    return render_template("ledger/entry.html", seq=seq, entry=row,
                           document=as_json(document, indent=2))


@blp.route("/rejections")
@page("auditor")
def rejections() -> str:
    form = RejectionFilterForm()
    where = pager()
    with current_ledger().sessions() as session:
        form.platform.choices = platform_choices(list_platforms(session))
        if not form.validate():
            return render_template("ledger/rejections.html", form=form, found=None,
                                   pager=where)
        since, until = form.moments()
        filters = RejectionFilter(platform=blank_as_none(form.platform.data),
                                  reason=blank_as_none(form.reason.data),
                                  received_from=since, received_before=until)
        found = rejections_page(session, where.keyset, filters)
    return render_template("ledger/rejections.html", form=form, found=found, pager=where)


@blp.route("/rejections/<int:rejection_id>")
@page("auditor")
def rejection(rejection_id: int) -> str:
    with current_ledger().sessions() as session:
        row = rejection_of(session, rejection_id)
    if row is None:
        abort(404)
    return render_template("ledger/rejection.html", rejection=row)


@blp.route("/platforms")
@page("auditor")
def platforms() -> str:
    with current_ledger().sessions() as session:
        overviews = platform_overviews(session)
    return render_template("ledger/platforms.html", platforms=overviews)


@blp.route("/audit")
@page("auditor")
def audit_trail() -> str:
    form = AuditFilterForm()
    where = pager()
    if not form.validate():
        return render_template("ledger/audit.html", form=form, found=None, pager=where)
    filters = AuditFilter(subject=blank_as_none(form.subject.data),
                          action=blank_as_none(form.action.data))
    with current_ledger().sessions() as session:
        found = audit_page(session, where.keyset, filters)
    return render_template("ledger/audit.html", form=form, found=found, pager=where)
