"""Rule-set versions, drafts, simulations and decisions. (SPEC §13)"""

from __future__ import annotations

from flask import Blueprint, render_template

from ledger.console.access import page

blp = Blueprint("rules", __name__, url_prefix="/rules", template_folder="templates")


@blp.route("")
@page("risk_officer")
def home() -> str:
    return render_template("rules/home.html")
