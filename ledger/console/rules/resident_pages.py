"""A resident's credit terms, a decision replayed, and the explanation printed for the resident
(SPEC §8, §13; PIPL Article 24).

The ID number is read from a POST body only, turned into the pseudonym at once and never
written back into a page, a URL or a log. The terms are the service's: `explain_terms` keeps
each answer as a decision (its id is printed, so the paper can be replayed), and adds what the
next tier asks.
"""

from __future__ import annotations

from typing import Any

from flask import abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from ledger.app_context import current_ledger
from ledger.console.access import current_principal, page
from ledger.console.rules.blueprint import blp, known_towns
from ledger.console.rules.forms import DecisionLookupForm, ExplanationForm, ResidentForm
from ledger.console.rules.version_pages import RISK_OFFICER
from ledger.contract.envelope import RESIDENT_PATTERN
from ledger.contract.resident_id import InvalidIdNumber, pseudonym
from ledger.service.errors import Conflict, NotFound
from ledger.service.rules import terms
from ledger.service.rules.explanation import explain_terms, with_next_tier

EXPLANATION_READERS = ("teller", "supervisor", "risk_officer")


@blp.route("/terms", methods=["GET", "POST"])
@page(RISK_OFFICER)
def resident_terms() -> tuple[str, int]:
    form = ResidentForm()
    answer, problem, status = None, None, 200
    if request.method == "POST":
        resident = _resident_of(form) if form.validate() else None
        if resident is None:
            status = 422
        else:
            answer, problem = _explained(resident)
            status = 200 if problem is None else 409
    form.id_number.data = ""  # the ID number is never written back into the page
    return render_template("rules/terms.html", form=form, answer=answer, problem=problem,
                           towns=known_towns()), status


@blp.route("/decisions")
@page(RISK_OFFICER)
def decisions() -> str | Response | tuple[str, int]:
    form = DecisionLookupForm(formdata=request.args if request.args.get("decision_id")
                              is not None else None)
    if form.decision_id.data is not None and form.validate():
        return redirect(url_for(".decision", decision_id=form.decision_id.data))
    status = 422 if form.errors else 200
    return render_template("rules/decisions.html", form=form), status


@blp.route("/decisions/<decision_id>")
@page(RISK_OFFICER)
def decision(decision_id: str) -> str:
    ledger = current_ledger()
    try:
        with ledger.sessions() as session:
            replayed = with_next_tier(session, terms.replay(session, decision_id))
    except NotFound:
        abort(404)
    return render_template("rules/decision.html", answer=replayed, towns=known_towns(),
                           form=DecisionLookupForm(formdata=None))


@blp.route("/explanation", methods=["GET", "POST"])
@page(*EXPLANATION_READERS)
def explanation() -> tuple[str, int]:
    """`?resident=<pseudonym>` (the counter links here), or an ID number posted."""
    form = ExplanationForm()
    resident: str | None = None
    if request.method == "POST":
        if form.validate():
            resident = _pseudonym_of(form)
    else:
        asked = request.args.get("resident", "").strip().lower()
        if asked and RESIDENT_PATTERN.fullmatch(asked):
            resident = asked
        elif asked:
            form.id_number.errors = [_("The link does not name a resident: enter the ID "
                                       "number.")]
    form.id_number.data = ""  # never written back into the page
    answer, problem = (None, None) if resident is None else _explained(resident)
    status = 422 if form.id_number.errors else (409 if problem else 200)
    return render_template("rules/explanation.html", form=form, answer=answer,
                           problem=problem, towns=known_towns()), status


def _resident_of(form: ResidentForm) -> str | None:
    if form.id_number.data:
        return _pseudonym_of(form)
    return str(form.resident.data)


def _pseudonym_of(form: ResidentForm | ExplanationForm) -> str | None:
    """The pseudonym of the form's ID number; else None, with the field's error (the number
    itself is never repeated, not even in the message)."""
    try:
        return pseudonym(form.id_number.data or "", current_ledger().settings.resident_pepper)
    except InvalidIdNumber:
        form.id_number.errors = [_("This is not a valid resident ID number: check it and "
                                   "enter it again.")]
        return None


def _explained(resident: str) -> tuple[dict[str, Any] | None, str | None]:
    ledger = current_ledger()
    try:
        with ledger.sessions.begin() as session:
            return explain_terms(session, resident, current_principal().username,
                                 ledger.clock()), None
    except Conflict:
        return None, _("No rule set is active yet: there are no credit terms to explain.")
