"""The admin's home: what each place of the area is for."""

from __future__ import annotations

from flask import render_template

from ledger.console.access import page
from ledger.console.admin.blueprint import blp


@blp.route("")
@page("admin")
def home() -> str:
    return render_template("admin/home.html")
