"""The branch (SPEC §13), for its supervisor: today's redemptions with `Reverse`, stock
count-in and the stock changes, and the reconciliation of any day (CSV and a print view).

Every change goes through the same service functions as the API (reverse, set_stock), with
their rules: a reason for each, a reversal on the redemption's business day only.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_decimal
from flask_babel import gettext as _
from werkzeug.wrappers import Response as BaseResponse

from ledger.app_context import current_ledger
from ledger.console.access import current_principal, page
from ledger.console.branch import labels
from ledger.console.branch.day import BranchDay, read_branch_day
from ledger.console.branch.forms import (
    DayForm,
    ReversalForm,
    StockCountForm,
    stock_count_form,
)
from ledger.service import registry
from ledger.service.counter import catalog, reconciliation, redemptions
from ledger.service.counter.receipts import branch_name
from ledger.service.counter.redemptions import business_day
from ledger.service.errors import ServiceError

blp = Blueprint("branch", __name__, url_prefix="/branch", template_folder="templates",
                static_folder="static", static_url_path="/static")
REDEMPTION_ID_PATTERN = re.compile(
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@blp.context_processor
def _helpers() -> dict[str, Any]:
    return {"moment": _moment, "stock_change_reason": labels.stock_change_reason}


@blp.route("")
@page("supervisor")
def home() -> tuple[str, int]:
    return _home_page(_read())


@blp.route("/redemptions/<redemption_id>/reversal", methods=["POST"])
@page("supervisor")
def reverse(redemption_id: str) -> tuple[str, int] | BaseResponse:
    if not REDEMPTION_ID_PATTERN.fullmatch(redemption_id):
        abort(404)
    form = ReversalForm(prefix=redemption_id)
    if not form.validate_on_submit():
        return _home_page(_read(), reversal=(redemption_id, form), status=422)
    ledger = current_ledger()
    try:
        with ledger.sessions.begin() as session:
            reversed_ = redemptions.reverse(session, current_principal(), ledger.ledger_key(),
                                            redemption_id, form.reason.data or "",
                                            ledger.clock())
    except ServiceError as error:
        return _home_page(_read(), reversal=(redemption_id, form),
                          problem=labels.reversal_refusal(error),
                          status=404 if error.code == "not_found" else 409)
    flash(_("Receipt %(receipt)s is reversed: %(points)s points are back on the resident's "
            "balance and the gifts are back in stock.", receipt=reversed_["receipt_no"],
            points=format_decimal(reversed_["points"])))
    return redirect(url_for(".home"), 303)


@blp.route("/stock", methods=["POST"])
@page("supervisor")
def count_stock() -> tuple[str, int] | BaseResponse:
    data = _read()
    form = stock_count_form(_gift_labels(data), data.quantities, read_request=True)
    if not form.validate_on_submit():
        return _home_page(data, count=form, status=422)
    changes = form.changes()
    if not changes:
        return _home_page(data, count=form, problem=str(labels.NOTHING_COUNTED), status=422)
    ledger, principal = current_ledger(), current_principal()
    try:
        with ledger.sessions.begin() as session:
            for sku, quantity in changes.items():
                catalog.set_stock(session, principal, data.branch, sku, quantity,
                                  form.reason.data or "", ledger.clock())
    except ServiceError:
        return _home_page(data, count=form, problem=str(labels.STOCK_REFUSAL), status=422)
    flash(_("The count is recorded: %(gifts)s changed.",
            gifts=", ".join(f"{data.gift_names.get(sku, sku)} → {quantity}"
                            for sku, quantity in changes.items())))
    return redirect(url_for(".home"), 303)


@blp.route("/redemptions/<redemption_id>/reversal")
@blp.route("/stock")
@page("supervisor")
def back_home(redemption_id: str | None = None) -> BaseResponse:
    """A refusal is shown at the address its form was sent to; choosing a language there (a
    GET of that address) leads back to the branch's page."""
    del redemption_id
    query: dict[str, Any] = request.args.to_dict()
    return redirect(url_for(".home", **query), 303)


@blp.route("/reconciliation")
@page("supervisor")
def reconciliation_page() -> tuple[str, int]:
    form, day = _day_asked()
    document = _reconcile(day) if day is not None else None
    return render_template("branch/reconciliation.html", form=form, day=document,
                           **_names()), 200 if day is not None else 422


@blp.route("/reconciliation.csv")
@page("supervisor")
def reconciliation_csv() -> Response:
    _form, day = _day_asked()
    if day is None:
        abort(404)
    document = _reconcile(day)
    # The same file as the API's (GET /branches/{b}/reconciliation, Accept: text/csv).
    filename = f"reconciliation-{document['branch']}-{document['date']}.csv"
    return Response(reconciliation.reconciliation_csv(document), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@blp.route("/reconciliation/print")
@page("supervisor")
def reconciliation_print() -> str:
    _form, day = _day_asked()
    if day is None:
        abort(404)
    return render_template("branch/reconciliation_print.html", day=_reconcile(day),
                           printed_at=current_ledger().clock(), **_names())


def _read() -> BranchDay:
    ledger = current_ledger()
    with ledger.sessions() as session:
        return read_branch_day(session, current_principal(), ledger.clock())


def _gift_labels(data: BranchDay) -> list[tuple[str, str]]:
    return [(gift["sku"], gift["name"]) for gift in data.gifts]


def _home_page(data: BranchDay, reversal: tuple[str, ReversalForm] | None = None,
               count: StockCountForm | None = None, problem: str | None = None,
               status: int = 200) -> tuple[str, int]:
    reversals = {}
    for item in data.day["items"]:
        if item["reversal"] is not None:
            continue
        if reversal is not None and reversal[0] == item["redemption_id"]:
            reversals[item["redemption_id"]] = reversal[1]
        else:
            reversals[item["redemption_id"]] = ReversalForm(prefix=item["redemption_id"],
                                                            formdata=None)
    if count is None:
        count = stock_count_form(_gift_labels(data), data.quantities, read_request=False)
    return render_template(
        "branch/home.html", data=data, reversals=reversals, count=count, problem=problem,
        problem_at=("reversal" if reversal is not None else "count") if problem else None,
        day_form=DayForm(formdata=None, date=date.fromisoformat(data.today))), status


def _day_asked() -> tuple[DayForm, str | None]:
    """The day of `?date=` (today without one), or None with the form's error."""
    today = date.fromisoformat(business_day(current_ledger().clock()))
    if "date" not in request.args:
        return DayForm(formdata=None, date=today), today.isoformat()
    form = DayForm(formdata=request.args)
    if not form.validate() or form.date.data is None:
        return form, None
    return form, form.date.data.isoformat()


def _reconcile(day: str) -> dict[str, Any]:
    principal = current_principal()
    assert principal.branch is not None
    with current_ledger().sessions() as session:
        return reconciliation.reconcile(session, principal, principal.branch, day)


def _names() -> dict[str, Any]:
    principal = current_principal()
    assert principal.branch is not None
    with current_ledger().sessions() as session:
        return {"branch_name": branch_name(session, principal.branch),
                "platform_names": {platform.code: platform.name
                                   for platform in registry.list_platforms(session)}}


def _moment(text: str) -> datetime:
    """A time as the service writes it (RFC 3339), for flask-babel to show in Asia/Shanghai."""
    return datetime.fromisoformat(text)
