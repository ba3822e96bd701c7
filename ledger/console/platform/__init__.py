"""Your platform's events, rejections and gaps. (SPEC §13)"""

from __future__ import annotations

from flask import Blueprint, render_template

from ledger.console.access import page

blp = Blueprint("platform", __name__, url_prefix="/platform", template_folder="templates")


@blp.route("")
@page("platform_operator")
def home() -> str:
    return render_template("platform/home.html")
