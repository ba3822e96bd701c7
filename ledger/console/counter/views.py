"""The counter (SPEC §13): look a resident up by ID number, redeem points for gifts, print the
receipt. Tellers and supervisors, at their own branch.

The ID number travels in a POST body only; the page answers with a redirect to the resident's
page, whose address carries the pseudonym, never the number.

A redemption form carries its own Idempotency-Key, `counter.<form>.<sku>`, where `<form>` is a
random word given to the resident's page when it is first opened and kept in its address. The
pages are never cached (they hold personal figures), so going back to the page renders it
again: with the same address, hence the same keys, so that a form sent twice, from a double
click, a reload, or after going back, redeems once and answers the first receipt again.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.wrappers import Response

from ledger.app_context import current_ledger
from ledger.console.access import current_principal, page
from ledger.console.counter import labels
from ledger.console.counter.forms import LookupForm, RedemptionForm
from ledger.console.counter.resident_page import ResidentView, read_resident
from ledger.contract.envelope import RESIDENT_PATTERN
from ledger.contract.resident_id import InvalidIdNumber, pseudonym
from ledger.domain.roles import BRANCH_ROLES
from ledger.service.counter import receipts, redemptions
from ledger.service.counter.redemptions import RedemptionRequest
from ledger.service.errors import Conflict, Forbidden, NotFound, ServiceError

blp = Blueprint("counter", __name__, url_prefix="/counter", template_folder="templates",
                static_folder="static", static_url_path="/static")

FORM_WORD_BYTES = 12  # 16 characters of base64url: never guessed, never repeated
FORM_WORD_PATTERN = re.compile(r"[A-Za-z0-9_-]{16}")
REDEMPTION_ID_PATTERN = re.compile(
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# The resident's printable explanation of their credit terms, when the rules area offers it.
EXPLANATION_ENDPOINT = "console.rules.explanation"


@blp.route("", methods=["GET", "POST"])
@page(*BRANCH_ROLES)
def home() -> tuple[str, int] | Response:
    form = LookupForm()
    if form.validate_on_submit():
        try:
            resident = pseudonym(form.id_number.data or "",
                                 current_ledger().settings.resident_pepper)
        except InvalidIdNumber as error:
            form.id_number.errors = [*form.id_number.errors,
                                     str(labels.id_number_problem(error))]
        else:
            return redirect(url_for(".resident", resident=resident), 303)
    form.id_number.data = ""  # never shown again, not even to correct it
    return render_template("counter/home.html", lookup=form), 422 if form.errors else 200


@blp.route("/residents/<resident>")
@page(*BRANCH_ROLES)
def resident(resident: str) -> tuple[str, int] | Response:
    _check_resident(resident)
    word = request.args.get("form", "")
    if not FORM_WORD_PATTERN.fullmatch(word):
        return redirect(url_for(".resident", resident=resident,
                                form=secrets.token_urlsafe(FORM_WORD_BYTES)), 303)
    return _resident_page(_read(resident), word)


@blp.route("/residents/<resident>/gifts/<sku>", methods=["POST"])
@page(*BRANCH_ROLES)
def redeem(resident: str, sku: str) -> tuple[str, int] | Response:
    _check_resident(resident)
    word = request.args.get("form", "")
    if not FORM_WORD_PATTERN.fullmatch(word):
        abort(404)
    view = _read(resident)
    form = RedemptionForm(prefix=sku)
    form.platform.choices = view.platform_choices
    if not form.validate_on_submit():
        return _resident_page(view, word, submitted=(sku, form), status=422)
    assert form.quantity.data is not None  # InputRequired
    asked = RedemptionRequest(resident, form.platform.data, sku, form.quantity.data)
    ledger = current_ledger()
    try:
        with ledger.sessions.begin() as session:
            answer = redemptions.redeem(session, current_principal(), ledger.ledger_key(),
                                        asked, str(form.key.data), ledger.clock())
    except ServiceError as error:
        problem = labels.refusal(error, view.platform_name(form.platform.data))
        status = (409 if isinstance(error, Conflict) else
                  403 if isinstance(error, Forbidden) else 422)
        return _resident_page(view, word, submitted=(sku, form), problem=problem,
                              status=status)
    return redirect(url_for(".receipt", redemption_id=answer.document["redemption_id"],
                            again="1" if answer.replayed else None), 303)


@blp.route("/residents/<resident>/gifts/<sku>")
@page(*BRANCH_ROLES)
def redeem_again(resident: str, sku: str) -> Response:
    """A refusal is shown at the address the form was sent to; choosing a language there (or
    reloading it as a GET) leads back to the resident's page, with the same form word."""
    del sku
    _check_resident(resident)
    query: dict[str, Any] = request.args.to_dict()
    return redirect(url_for(".resident", resident=resident, **query), 303)


@blp.route("/receipts/<redemption_id>")
@page(*BRANCH_ROLES)
def receipt(redemption_id: str) -> str:
    if not REDEMPTION_ID_PATTERN.fullmatch(redemption_id):
        abort(404)
    with current_ledger().sessions() as session:
        try:
            document = receipts.receipt(session, current_principal(), redemption_id)
        except NotFound:
            abort(404)
        except Forbidden:
            abort(403)
    reversal = document["reversal"]
    return render_template("counter/receipt.html", receipt=document,
                           at=datetime.fromisoformat(document["at"]),
                           reversed_at=None if reversal is None
                           else datetime.fromisoformat(reversal["at"]),
                           again=request.args.get("again") == "1",
                           on_a4=request.args.get("paper") == "a4")


def _read(resident: str) -> ResidentView:
    with current_ledger().sessions() as session:
        return read_resident(session, current_principal(), resident)


def _resident_page(view: ResidentView, word: str,
                   submitted: tuple[str, RedemptionForm] | None = None,
                   problem: str | None = None, status: int = 200) -> tuple[str, int]:
    forms = {}
    for gift in view.gifts:
        if submitted is not None and submitted[0] == gift.sku:
            form = submitted[1]
        else:
            form = RedemptionForm(prefix=gift.sku, formdata=None)
            form.platform.choices = view.platform_choices
        # The key is the page's own, whatever a replayed form may have carried.
        form.key.data = f"counter.{word}.{gift.sku}"
        forms[gift.sku] = form
    explanation = (url_for(EXPLANATION_ENDPOINT, resident=view.resident)
                   if EXPLANATION_ENDPOINT in current_app.view_functions else None)
    lookup = LookupForm(formdata=None)
    # The page is about the resident now: the cursor stays where the teller puts it.
    lookup.id_number.render_kw = {key: value for key, value in
                                  (lookup.id_number.render_kw or {}).items()
                                  if key != "autofocus"}
    return render_template("counter/resident.html", view=view, forms=forms, word=word,
                           problem=problem, problem_sku=submitted[0] if submitted else None,
                           explanation=explanation, lookup=lookup), status


def _check_resident(resident: str) -> None:
    if not RESIDENT_PATTERN.fullmatch(resident):
        abort(404)
