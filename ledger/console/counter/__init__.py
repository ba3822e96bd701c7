"""The counter: look a resident up, redeem points for gifts, print the receipt. (SPEC §13)"""

from __future__ import annotations

from flask import Blueprint, render_template

from ledger.console.access import page

blp = Blueprint("counter", __name__, url_prefix="/counter", template_folder="templates")


@blp.route("")
@page("teller", "supervisor")
def home() -> str:
    return render_template("counter/home.html")
