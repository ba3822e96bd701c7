"""Signing in and out of the console (SPEC §13)."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from ledger.app_context import current_ledger
from ledger.console.access import current_principal, public_page, signed_in_page
from ledger.console.forms import SignInForm, SignOutForm
from ledger.console.navigation import home_of
from ledger.console.sessions import ConsoleSession
from ledger.service.sign_in import SignInOutcome, record_sign_out, sign_in

blp = Blueprint("auth", __name__)


@blp.route("/login", methods=["GET", "POST"])
@public_page
def sign_in_page() -> tuple[str, int] | Response:
    form = SignInForm()
    problem = None
    if form.validate_on_submit():
        ledger = current_ledger()
        with ledger.sessions.begin() as db:
            result = sign_in(db, form.username.data or "", form.password.data or "",
                             ledger.clock(), origin=request.remote_addr)
        if result.outcome is SignInOutcome.SIGNED_IN:
            assert result.principal is not None and isinstance(session, ConsoleSession)
            session.sign_in(result.principal)
            return redirect(_next_page() or url_for(home_of(result.principal)))
        # Neither answer says whether the username exists.
        problem = (_("Sign-in is temporarily locked after too many failed attempts. "
                     "Try again in 15 minutes.")
                   if result.outcome is SignInOutcome.LOCKED
                   else _("The username or the password is wrong."))
    status = 200 if problem is None else 401
    return render_template("console/sign_in.html", form=form, problem=problem), status


@blp.route("/logout", methods=["POST"])
@signed_in_page
def sign_out() -> Response:
    principal = current_principal()
    assert isinstance(session, ConsoleSession)
    session.sign_out()
    ledger = current_ledger()
    with ledger.sessions.begin() as db:
        record_sign_out(db, principal.username, ledger.clock())
    return redirect(url_for("console.auth.sign_in_page"))


def sign_out_form() -> SignOutForm:
    return SignOutForm()


def _next_page() -> str | None:
    """A page of the console to return to; anything else (another host, `//evil`) is ignored."""
    wanted = request.args.get("next", "")
    if wanted.startswith("/console") and not wanted.startswith("//") and "\\" not in wanted:
        return wanted
    return None
