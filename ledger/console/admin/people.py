"""Users: the list, a new user (with a console password), disable and enable, a new role with
its branch or platform, a new console password (SPEC §12, §13 "Admin")."""

from __future__ import annotations

from typing import Any

from flask import abort, render_template, request, url_for
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from ledger.console.access import page
from ledger.console.admin.blueprint import (
    PAGE_SIZE,
    Change,
    blp,
    cursor,
    moment,
    reading,
    submit,
)
from ledger.console.admin.forms import DisableForm, PasswordForm, RoleForm, UserForm
from ledger.console.admin.refusals import Explanation, password_problem
from ledger.console.admin.text import _
from ledger.console.navigation import role_name
from ledger.domain.roles import ROLES
from ledger.service import access, administration, registry
from ledger.service.errors import NotFound, ServiceError


@blp.route("/users", methods=["GET", "POST"])
@page("admin")
def users() -> Response | tuple[str, int]:
    form = UserForm()
    after = cursor()

    def redraw(problem: str | None, status: int) -> tuple[str, int]:
        with reading() as session:
            listed, following = access.list_users(session, after, PAGE_SIZE)
            _offer_assignments(form, session, choose_role=True)
        rows = [{**user, "last_sign_in_at": moment(user["last_sign_in_at"])} for user in listed]
        return render_template("admin/users.html", users=rows, following=following,
                               first_page=after == 0, form=form, problem=problem), status

    if request.method == "GET":
        return redraw(None, 200)

    def add(made: Change) -> str:
        username = form.username.data or ""
        administration.add_user(made.session, made.actor, username, form.role.data or "",
                                form.branch.data or None, form.platform.data or None, made.now)
        if not form.password.data:
            return _("User %(username)s added. Set a console password so that they can sign "
                     "in.", username=username)
        administration.set_password(made.session, made.actor, username, form.password.data,
                                    made.now)
        return _("User %(username)s added with a console password: they can sign in now.",
                 username=username)

    def explanation(error: ServiceError) -> Explanation:
        return Explanation(
            fields={"username": _("A username is 2 to 64 lower-case letters, digits, dots, "
                                  "underscores or hyphens, starting with a letter or a "
                                  "digit."),
                    "password": password_problem(error),
                    **_assignment_problems(error, form)},
            codes={"conflict": ("username", _("User %(username)s already exists.",
                                              username=form.username.data))})

    return submit(form, add, redraw, url_for(".user", username=form.username.data or "-"),
                  explanation)


@blp.route("/users/<username>")
@page("admin")
def user(username: str) -> tuple[str, int]:
    return _user_page(username, None, 200)


@blp.route("/users/<username>/disable", methods=["POST"], defaults={"disabled": True})
@blp.route("/users/<username>/enable", methods=["POST"], defaults={"disabled": False})
@page("admin")
def set_disabled(username: str, disabled: bool) -> Response | tuple[str, int]:
    def switch(made: Change) -> str:
        changed = administration.set_disabled(made.session, made.actor, username, disabled,
                                              made.now)
        if not changed:
            return (_("%(username)s was already disabled.", username=username) if disabled
                    else _("%(username)s was already enabled.", username=username))
        return (_("%(username)s is disabled: their API tokens are refused and their console "
                  "sessions end from their next request.", username=username) if disabled
                else _("%(username)s is enabled again.", username=username))

    def explanation(error: ServiceError) -> Explanation:
        del error
        return Explanation(codes={"last_admin": (None, _(
            "%(username)s is the last enabled administrator and cannot be disabled: make "
            "another user an administrator first.", username=username))})

    return submit(DisableForm(), switch,
                  lambda problem, status: _user_page(username, problem, status),
                  url_for(".user", username=username), explanation)


@blp.route("/users/<username>/role", methods=["POST"])
@page("admin")
def set_role(username: str) -> Response | tuple[str, int]:
    form = RoleForm()

    def give(made: Change) -> str:
        changed = administration.set_role(made.session, made.actor, username, form.role.data,
                                          form.branch.data or None, form.platform.data or None,
                                          made.now)
        if not changed:
            return _("Nothing changed: %(username)s already has this role.", username=username)
        return _("%(username)s is now %(role)s; their console sessions have ended.",
                 username=username, role=role_name(form.role.data))

    def explanation(error: ServiceError) -> Explanation:
        return Explanation(fields=_assignment_problems(error, form), codes={
            "last_admin": (None, _("%(username)s is the last enabled administrator and must "
                                   "stay one: make another user an administrator first.",
                                   username=username))})

    return submit(form, give,
                  lambda problem, status: _user_page(username, problem, status, role_form=form),
                  url_for(".user", username=username), explanation)


@blp.route("/users/<username>/password", methods=["POST"])
@page("admin")
def set_password(username: str) -> Response | tuple[str, int]:
    form = PasswordForm()

    def set_it(made: Change) -> str:
        administration.set_password(made.session, made.actor, username,
                                    form.password.data or "", made.now)
        return _("The console password of %(username)s is set.", username=username)

    def explanation(error: ServiceError) -> Explanation:
        return Explanation(fields={"password": password_problem(error)})

    return submit(form, set_it,
                  lambda problem, status: _user_page(username, problem, status,
                                                     password_form=form),
                  url_for(".user", username=username), explanation)


def _user_page(username: str, problem: str | None, status: int, *,
               role_form: RoleForm | None = None,
               password_form: PasswordForm | None = None) -> tuple[str, int]:
    with reading() as session:
        try:
            shown = access.user_of(session, username)
        except NotFound:
            abort(404)
        document = access.user_document(shown)
        has_password = shown.password_hash is not None
        if role_form is None:
            role_form = RoleForm(formdata=None, data={
                "role": shown.role, "branch": shown.branch or "",
                "platform": shown.platform or ""})
        _offer_assignments(role_form, session)
    document.update(created_at=moment(document["created_at"]),
                    last_sign_in_at=moment(document["last_sign_in_at"]))
    return render_template(
        "admin/user.html", user=document, has_password=has_password,
        switch=DisableForm(formdata=None), role_form=role_form,
        password_form=password_form or PasswordForm(formdata=None), problem=problem), status


def _offer_assignments(form: Any, session: Session, *, choose_role: bool = False) -> None:
    """The roles, branches and platforms a form offers. A new user's role is chosen, never
    taken by default (the first role is the administrator's)."""
    form.role.choices = ([("", _("Choose…"))] if choose_role else []) + [
        (role, role_name(role)) for role in ROLES]
    form.branch.choices = [("", _("None"))] + [
        (branch.code, f"{branch.code} · {branch.name}")
        for branch in access.list_branches(session)]
    form.platform.choices = [("", _("None"))] + [
        (platform.code, f"{platform.code} · {platform.name}")
        for platform in registry.list_platforms(session)]


def _assignment_problems(error: ServiceError, form: Any) -> dict[str, str]:
    """What to say beside the role, the branch or the platform the service refused: missing,
    given where the role has none, or not registered."""
    unknown = isinstance(error, NotFound)
    return {
        "role": _("Choose one of the roles."),
        "branch": (_("This branch is not registered.") if unknown
                   else _("Only tellers and supervisors belong to a branch: choose None.")
                   if form.branch.data
                   else _("A teller or a supervisor belongs to a branch: choose it.")),
        "platform": (_("This platform is not registered.") if unknown
                     else _("Only a platform operator is bound to a platform: choose None.")
                     if form.platform.data
                     else _("A platform operator is bound to one platform: choose it.")),
    }
