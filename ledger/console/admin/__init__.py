"""Platforms and keys, users, tokens, branches, gifts. (SPEC §13)"""

from __future__ import annotations

from flask import Blueprint, render_template

from ledger.console.access import page

blp = Blueprint("admin", __name__, url_prefix="/admin", template_folder="templates")


@blp.route("")
@page("admin")
def home() -> str:
    return render_template("admin/home.html")
