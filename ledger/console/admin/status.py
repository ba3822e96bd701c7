"""The admin's status page: what `pointsledger status` says (SPEC §15), as the auditor sees it."""

from __future__ import annotations

from flask import render_template

from ledger.console.access import page
from ledger.console.admin.blueprint import blp
from ledger.console.status_page import current_status, problem_text


@blp.route("/status")
@page("admin")
def status() -> str:
    found = current_status()
    return render_template("admin/status.html", status=found,
                           problems=[problem_text(problem) for problem in found.problems])
