"""The versions of the rule set, one version's page, and its steps: submit, approve, reject
(SPEC §8, §13). The lifecycle service decides every step; these pages offer only the steps
that make sense for the reader (the author is never offered Approve), and tell a refusal."""

from __future__ import annotations

import json
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

# WTForms 3.3's choices (tuples are deprecated); types-WTForms does not know it yet.
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]

from ledger.app_context import current_ledger
from ledger.console.access import current_principal, page
from ledger.console.rules.blueprint import actor, blp, now
from ledger.console.rules.forms import (
    ApproveForm,
    DiffForm,
    NewDraftForm,
    SimulateForm,
    StepForm,
    step_form,
)
from ledger.console.rules.refusals import http_status, refusal_message
from ledger.service.errors import InvalidInput, NotFound, ServiceError
from ledger.service.rules import documents, lifecycle, simulations
from ledger.service.rules.versions import Status, Versions, VersionState, load_versions

RISK_OFFICER = "risk_officer"
VERSIONS_SHOWN_MAX = 1000  # a handful a year: all of them, on one page
STEPS = {"submit": lifecycle.submit, "reject": lifecycle.reject}


@blp.route("")
@page(RISK_OFFICER)
def home() -> tuple[str, int]:
    return render_home(NewDraftForm())


def render_home(form: NewDraftForm, status: int = 200) -> tuple[str, int]:
    """Every version, newest first, and the form that starts a new draft."""
    ledger = current_ledger()
    with ledger.sessions() as session:
        items, _following = documents.list_versions(session, ledger.clock(), 0,
                                                    VERSIONS_SHOWN_MAX)
    return render_template("rules/home.html", versions=list(reversed(items)),
                           form=form), status


@blp.route("/<int:version>")
@page(RISK_OFFICER)
def version_page(version: int) -> str | tuple[str, int]:
    return _render_version(version)


@blp.route("/<int:version>/<any(submit, approve, reject):action>", methods=["POST"])
@page(RISK_OFFICER)
def step(version: int, action: str) -> Response | tuple[str, int] | str:
    form = step_form(action)
    if not form.validate():
        return _render_version(version, forms={action: form}, status=422)
    ledger = current_ledger()
    comment = form.comment.data or ""
    try:
        with ledger.sessions.begin() as session:
            if isinstance(form, ApproveForm):
                lifecycle.approve(session, actor(), version, comment, ledger.clock(),
                                  form.effective_from_utc())
            else:
                STEPS[action](session, actor(), version, comment, ledger.clock())
    except NotFound:
        abort(404)
    except ServiceError as error:
        if isinstance(form, ApproveForm) and _refuses_effective_from(error):
            form.effective_from.errors = [_("It must be now or later, and not before the "
                                            "version approved last takes effect.")]
            return _render_version(version, forms={action: form}, status=422)
        with ledger.sessions() as session:
            versions = load_versions(session, ledger.clock())
        return _render_version(version, forms={action: form},
                               problem=refusal_message(error, version, versions),
                               status=http_status(error))
    flash(_done(action, version))
    return redirect(url_for(".version_page", version=version))


def _refuses_effective_from(error: ServiceError) -> bool:
    return isinstance(error, InvalidInput) and "effective_from" in (error.errors or {})


def _done(action: str, version: int) -> str:
    if action == "submit":
        return str(_("Version %(version)s is submitted for approval.", version=version))
    if action == "approve":
        return str(_("Version %(version)s is approved.", version=version))
    return str(_("Version %(version)s is rejected.", version=version))


def _render_version(version: int, forms: dict[str, StepForm] | None = None,
                    problem: str | None = None, status: int = 200) -> tuple[str, int]:
    ledger = current_ledger()
    with ledger.sessions() as session:
        versions = load_versions(session, now())
        state = versions.by_version.get(version)
        if state is None:
            abort(404)
        shown = documents.version_document(state)
        sims = simulations.simulations_of(session, version)
        diff_form, diff = _diff(session, version, versions)
    username = current_principal().username
    steps = {action: (forms or {}).get(action) or step_form(action, formdata=None)
             for action in offered_steps(state, username)}
    active = versions.active
    return render_template(
        "rules/version.html", version=shown, state=state,
        document_text=json.dumps(shown["document"], ensure_ascii=False, indent=2),
        steps=steps, simulate_form=SimulateForm(formdata=None),
        can_simulate=state.status in (Status.DRAFT, Status.SUBMITTED),
        can_replace=state.status is Status.DRAFT and state.row.author == username,
        simulations=list(reversed(sims)),
        active_version=None if active is None else active.version,
        diff_form=diff_form, diff=diff, problem=problem), status


def offered_steps(state: VersionState, username: str) -> list[str]:
    """The steps shown: only those the service could allow this reader now. The author of a
    version is never offered its approval (four eyes); the service refuses it anyway."""
    mine = state.row.author == username
    if state.status is Status.DRAFT:
        return ["submit", "reject"] if mine else ["reject"]
    if state.status is Status.SUBMITTED:
        return ["reject"] if mine else ["approve", "reject"]
    return []


def _diff(session: Session, version: int, versions: Versions
          ) -> tuple[DiffForm, dict[str, Any] | None]:
    """The diff asked for in the query, or else against the version an approver would compare
    with: the active one, or the one before."""
    others = [number for number in sorted(versions.by_version) if number != version]
    form = DiffForm(formdata=request.args if "against" in request.args else None)
    form.against.choices = [SelectChoice(str(number), _("Version %(version)s", version=number))
                            for number in others]
    if not others:
        return form, None
    asked = form.against.data if form.validate() and form.against.data in others else None
    against = asked if asked is not None else _default_against(version, others, versions)
    form.against.data = against
    return form, documents.diff_versions(session, version, against, now())


def _default_against(version: int, others: list[int], versions: Versions) -> int:
    active = versions.active
    if active is not None and active.version != version:
        return active.version
    earlier = [number for number in others if number < version]
    return earlier[-1] if earlier else others[0]
