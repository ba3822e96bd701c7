"""Platforms and their signing keys: register a platform, add a key, retire it or declare it
compromised (SPEC §3, §13 "Admin")."""

from __future__ import annotations

from datetime import timedelta

from flask import abort, render_template, request, url_for
from flask_babel import format_datetime
from werkzeug.wrappers import Response

from ledger.app_context import current_ledger
from ledger.console.access import page
from ledger.console.admin.blueprint import Change, blp, reading, submit
from ledger.console.admin.forms import KeyForm, KeyRevocationForm, PlatformForm
from ledger.console.admin.refusals import Explanation
from ledger.console.admin.text import _
from ledger.contract.webhook import encode_public_key
from ledger.service import administration, registry
from ledger.service.errors import NotFound, ServiceError
from ledger.service.registry import NAME_LENGTH_MAX

RETIRED, COMPROMISED = "retired", "compromised"


@blp.route("/platforms", methods=["GET", "POST"])
@page("admin")
def platforms() -> Response | tuple[str, int]:
    form = PlatformForm()

    def redraw(problem: str | None, status: int) -> tuple[str, int]:
        with reading() as session:
            listed = registry.list_platforms(session)
            keys = {platform.code: registry.keys_of(session, platform.code)
                    for platform in listed}
        return render_template("admin/platforms.html", platforms=listed, keys=keys, form=form,
                               problem=problem), status

    if request.method == "GET":
        return redraw(None, 200)

    def add(made: Change) -> str:
        added = administration.add_platform(made.session, made.actor, form.code.data or "",
                                            form.name.data or "", form.township.data or "",
                                            made.now)
        return _("Platform %(code)s (%(name)s) registered. Add its public key below.",
                 code=added.code, name=added.name)

    def explanation(error: ServiceError) -> Explanation:
        del error
        return Explanation(
            fields={"code": _("A platform code is 2 to 32 lower-case letters, digits or "
                              "underscores, starting with a letter."),
                    "name": _("A name has 1 to %(length)s characters.", length=NAME_LENGTH_MAX),
                    "township": _("A name has 1 to %(length)s characters.",
                                  length=NAME_LENGTH_MAX)},
            codes={"conflict": ("code", _("Platform %(code)s is already registered.",
                                          code=form.code.data))})

    return submit(form, add, redraw, url_for(".platform", code=form.code.data), explanation)


@blp.route("/platforms/<code>")
@page("admin")
def platform(code: str) -> tuple[str, int]:
    return _platform_page(code, KeyForm(), None, 200)


@blp.route("/platforms/<code>/keys", methods=["POST"])
@page("admin")
def add_key(code: str) -> Response | tuple[str, int]:
    form = KeyForm()

    def add(made: Change) -> str:
        registered = administration.add_key(made.session, made.actor, code,
                                            form.public_key.data or "", made.now)
        return _("Key %(key_id)s registered: events signed with it are accepted from now on.",
                 key_id=registered.key_id)

    def explanation(error: ServiceError) -> Explanation:
        if isinstance(error, NotFound):
            abort(404)  # the platform went away under the form (it cannot: never deleted)
        return Explanation(
            fields={"public_key": _("This is not a public key: paste the platform's key, which "
                                    "begins with whpk_.")},
            codes={"conflict": ("public_key", _("This key is already registered."))})

    return submit(form, add, lambda problem, status: _platform_page(code, form, problem, status),
                  url_for(".platform", code=code), explanation)


@blp.route("/platforms/<code>/keys/<key_id>/revoke", methods=["POST"])
@page("admin")
def revoke_key(code: str, key_id: str) -> Response | tuple[str, int]:
    form = KeyRevocationForm()
    compromised = request.form.get("kind") == COMPROMISED
    if request.form.get("kind") not in (RETIRED, COMPROMISED):
        abort(400)
    grace = timedelta(seconds=current_ledger().settings.retired_key_grace_s)

    def revoke(made: Change) -> str:
        key = administration.revoke_key(made.session, made.actor, key_id, made.now,
                                        compromised=compromised)
        if key.platform != code:
            abort(404)  # a key of another platform: the rollback leaves it as it was
        if compromised:
            return _("Key %(key_id)s is declared compromised: nothing it signs is accepted from "
                     "now on, whatever time its signature claims.", key_id=key_id)
        assert key.revoked_at is not None
        return _("Key %(key_id)s is retired: events it signed before now are still accepted "
                 "until %(until)s, later ones are refused.", key_id=key_id,
                 until=format_datetime(key.revoked_at + grace, "yyyy-MM-dd HH:mm"))

    def explanation(error: ServiceError) -> Explanation:
        del error
        return Explanation(codes={
            "not_found": (None, _("There is no such key.")),
            # Retired twice, or compromised twice: the page shows what the key is now.
            "conflict": (None, _("Key %(key_id)s was already revoked that way; its state is "
                                 "shown below.", key_id=key_id))})

    return submit(form, revoke,
                  lambda problem, status: _platform_page(code, KeyForm(formdata=None), problem,
                                                         status),
                  url_for(".platform", code=code), explanation)


def _platform_page(code: str, form: KeyForm, problem: str | None,
                   status: int) -> tuple[str, int]:
    with reading() as session:
        try:
            shown = registry.platform_of(session, code)
        except NotFound:
            abort(404)
        keys = [(key, encode_public_key(key.public_key))
                for key in registry.keys_of(session, code)]
    grace = timedelta(seconds=current_ledger().settings.retired_key_grace_s)
    return render_template("admin/platform.html", platform=shown, keys=keys, grace=grace,
                           form=form, revocation=KeyRevocationForm(formdata=None),
                           problem=problem), status
