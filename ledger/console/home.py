"""`/` and `/console/`: to the sign-in page, or to the signed-in user's home."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, url_for
from werkzeug.wrappers import Response

from ledger.console.access import current_principal_or_none, public_page, signed_in_page
from ledger.console.navigation import home_of

blp = Blueprint("home", __name__)


@blp.route("/")
@public_page
def index() -> Response:
    principal = current_principal_or_none()
    if principal is None:
        return redirect(url_for("console.auth.sign_in_page"))
    return redirect(url_for(home_of(principal)))


@blp.route("/no-pages")
@signed_in_page
def no_pages() -> str:
    """For the roles that work through the API only (the loan system, monitoring)."""
    return render_template("console/no_pages.html")


@blp.route("/<path:anything>")
@public_page
def unknown(anything: str) -> Response:
    """An address under /console/ that is no page: the console's 404 page, not the API's."""
    del anything
    abort(404)
