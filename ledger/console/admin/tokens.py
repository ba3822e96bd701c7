"""API tokens: the list (of one user or everyone's), a new token whose secret is shown once, on
the page that answers its form and never again, and revocation (SPEC §12, §13 "Admin")."""

from __future__ import annotations

import secrets
from typing import Any

from flask import render_template, request, session, url_for
from werkzeug.wrappers import Response

from ledger.app_context import current_ledger
from ledger.console.access import page
from ledger.console.admin.blueprint import (
    PAGE_SIZE,
    Change,
    blp,
    change,
    cursor,
    moment,
    reading,
    submit,
)
from ledger.console.admin.forms import TokenForm, TokenRevocationForm
from ledger.console.admin.refusals import Explanation, explain, status_of
from ledger.console.admin.text import _
from ledger.service import access, administration
from ledger.service.access import TOKEN_TTL_DAYS_MAX
from ledger.service.errors import NotFound, ServiceError

# The forms that made a token, in the server session: sending one again (a reload, a double
# click) shows which token it made instead of making another. The latest few are enough.
MADE_BY_FORM = "admin_tokens_made"
MADE_BY_FORM_KEPT = 20


@blp.route("/tokens")
@page("admin")
def tokens() -> tuple[str, int]:
    return _tokens_page(TokenForm(formdata=None, username=_filter() or ""), None, 200)


@blp.route("/tokens", methods=["POST"])
@page("admin")
def create_token() -> tuple[str, int]:
    form = TokenForm()
    if not form.validate_on_submit():
        return _tokens_page(form, _("Correct what is shown beside the fields."), 422)
    made_before = session.get(MADE_BY_FORM, {}).get(form.form_key.data or "")
    if made_before is not None:
        return render_template("admin/token_created.html", token_id=made_before, secret=None,
                               username=form.username.data), 200
    try:
        with change() as made:
            secret, token = administration.create_token(
                made.session, made.actor, form.username.data or "", form.ttl_days.data or 0,
                made.now)
    except ServiceError as error:
        return _tokens_page(form, explain(error, form, _creation_refusals(error, form)),
                            status_of(error))
    _remember(form.form_key.data, token.id)
    return render_template("admin/token_created.html", token_id=token.id, secret=secret,
                           username=form.username.data, expires_at=token.expires_at), 200


@blp.route("/tokens/<int:token_id>/revoke", methods=["POST"])
@page("admin")
def revoke_token(token_id: int) -> Response | tuple[str, int]:
    def revoke(made: Change) -> str:
        username = administration.revoke_token(made.session, made.actor, token_id,
                                               made.now)[1]
        return _("Token %(id)s of %(username)s is revoked: it is refused from now on.",
                 id=token_id, username=username)

    def explanation(error: ServiceError) -> Explanation:
        del error
        return Explanation(codes={
            "unknown_token": (None, _("There is no token %(id)s.", id=token_id)),
            "already_revoked": (None, _("Token %(id)s was already revoked.", id=token_id))})

    filtered = _filter()
    return submit(TokenRevocationForm(), revoke,
                  lambda problem, status: _tokens_page(
                      TokenForm(formdata=None, username=filtered or ""), problem, status),
                  url_for(".tokens", username=filtered), explanation)


def _tokens_page(form: TokenForm, problem: str | None, status: int) -> tuple[str, int]:
    filtered, after = _filter(), cursor()
    if not form.form_key.data:
        form.form_key.data = secrets.token_urlsafe(16)
    rows: list[dict[str, Any]] = []
    following = None
    with reading() as db:
        try:
            rows, following = access.list_tokens(db, filtered, after, PAGE_SIZE)
        except NotFound:
            problem, status = _("No user has the username %(username)s.",
                                username=filtered), 404
    now = current_ledger().clock()
    shown = [{**row, **{name: moment(row[name]) for name in (
        "created_at", "expires_at", "last_used_at", "revoked_at")}} for row in rows]
    for row in shown:
        row["expired"] = row["expires_at"] <= now
    return render_template("admin/tokens.html", tokens=shown, following=following,
                           first_page=after == 0, filtered=filtered, form=form,
                           revocation=TokenRevocationForm(formdata=None),
                           ttl_days_max=TOKEN_TTL_DAYS_MAX, problem=problem), status


def _creation_refusals(error: ServiceError, form: TokenForm) -> Explanation:
    del error
    return Explanation(
        fields={"ttl_days": _("Between 1 and %(days)s days.", days=TOKEN_TTL_DAYS_MAX)},
        codes={"unknown_user": ("username", _("No user has this username.")),
               "user_disabled": ("username", _(
                   "%(username)s is disabled: enable them before giving them a token.",
                   username=form.username.data))})


def _filter() -> str | None:
    return request.args.get("username", "").strip() or None


def _remember(form_key: str | None, token_id: int) -> None:
    if not form_key:
        return
    made = dict(session.get(MADE_BY_FORM, {}))
    made[form_key] = token_id
    session[MADE_BY_FORM] = dict(list(made.items())[-MADE_BY_FORM_KEPT:])
