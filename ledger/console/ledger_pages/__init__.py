"""The ledger: head, entries, rejections, platforms and gaps, the audit trail. (SPEC §13)"""

from __future__ import annotations

from flask import Blueprint, render_template

from ledger.console.access import page

blp = Blueprint("ledger", __name__, url_prefix="/ledger", template_folder="templates")


@blp.route("")
@page("auditor")
def home() -> str:
    return render_template("ledger/home.html")
