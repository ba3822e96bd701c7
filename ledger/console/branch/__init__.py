"""The branch: today's redemptions and reversals, stock, the day's reconciliation. (SPEC §13)"""

from __future__ import annotations

from flask import Blueprint, render_template

from ledger.console.access import page

blp = Blueprint("branch", __name__, url_prefix="/branch", template_folder="templates")


@blp.route("")
@page("supervisor")
def home() -> str:
    return render_template("branch/home.html")
