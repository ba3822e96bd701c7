"""Branches: the list, and a new one (SPEC §13 "Admin")."""

from __future__ import annotations

from flask import render_template, request, url_for
from werkzeug.wrappers import Response

from ledger.console.access import page
from ledger.console.admin.blueprint import Change, blp, reading, submit
from ledger.console.admin.forms import BranchForm
from ledger.console.admin.refusals import Explanation
from ledger.console.admin.text import _
from ledger.service import access, administration
from ledger.service.access import BRANCH_NAME_LENGTH_MAX
from ledger.service.errors import ServiceError


@blp.route("/branches", methods=["GET", "POST"])
@page("admin")
def branches() -> Response | tuple[str, int]:
    form = BranchForm()

    def redraw(problem: str | None, status: int) -> tuple[str, int]:
        with reading() as session:
            listed = access.list_branches(session)
        return render_template("admin/branches.html", branches=listed, form=form,
                               problem=problem), status

    if request.method == "GET":
        return redraw(None, 200)

    def add(made: Change) -> str:
        branch = administration.add_branch(made.session, made.actor, form.code.data or "",
                                           form.name.data or "", made.now)
        return _("Branch %(code)s (%(name)s) registered.", code=branch.code, name=branch.name)

    def explanation(error: ServiceError) -> Explanation:
        del error
        return Explanation(
            fields={"code": _("A branch code is 1 to 32 letters, digits, hyphens or underscores, "
                              "starting with a letter or a digit."),
                    "name": _("A branch name has 1 to %(length)s characters.",
                              length=BRANCH_NAME_LENGTH_MAX)},
            codes={"conflict": ("code", _("Branch %(code)s is already registered.",
                                          code=form.code.data))})

    return submit(form, add, redraw, url_for(".branches"), explanation)
