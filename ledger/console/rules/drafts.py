"""Drafting a version: start from the active version, the default, a file or a version, edit
the §8 document, save it as a new draft (SPEC §8, §13).

The document is validated by the lifecycle service when it is saved (the same check as the
API's and the CLI's); each problem it names is shown at its path beside the editor, and the
text stays as the officer typed it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.datastructures import FileStorage
from werkzeug.wrappers import Response

from ledger.app_context import current_ledger
from ledger.console.access import current_principal, page
from ledger.console.rules.blueprint import actor, blp, now
from ledger.console.rules.forms import (
    DOCUMENT_SIZE_MAX_BYTES,
    SOURCE_ACTIVE,
    SOURCE_DEFAULT,
    EditorForm,
    NewDraftForm,
)
from ledger.console.rules.labels import problem_message
from ledger.console.rules.refusals import http_status, refusal_message
from ledger.console.rules.version_pages import RISK_OFFICER, render_home
from ledger.service.errors import InvalidInput, NotFound, ServiceError
from ledger.service.rules import documents, lifecycle
from ledger.service.rules.default import DEFAULT_RULESET
from ledger.service.rules.versions import Status, load_versions

WHOLE_DOCUMENT = "$"
DOCUMENT_PREFIX = "document."


@dataclass(frozen=True)
class Problem:
    path: str  # as in the document: `tiers[2].when`; "$" for the whole document
    message: str


@blp.route("/new", methods=["GET", "POST"])
@page(RISK_OFFICER)
def new_draft() -> str | tuple[str, int] | Response:
    """POST: from the home page's form (the active version, the default or a file).
    GET `?from=V`: a copy of version V; `?replaces=V`: your draft V, to be replaced."""
    if request.method == "GET":
        return _from_version()
    form = NewDraftForm()
    if not form.validate():
        return render_home(form, 422)
    if form.source.data == SOURCE_DEFAULT:
        text = _pretty(DEFAULT_RULESET)
    elif form.source.data == SOURCE_ACTIVE:
        try:
            with current_ledger().sessions() as session:
                text = _pretty(documents.show_active(session, now())["document"])
        except NotFound:
            form.source.errors = [_("No version is active yet: start from the default rule "
                                    "set or a file.")]
            return render_home(form, 422)
    else:
        read = _read_file(form.file.data)
        if read is None:
            form.file.errors = [_("The file is not a text file of at most %(size)s KiB.",
                                  size=DOCUMENT_SIZE_MAX_BYTES // 1024)]
            return render_home(form, 422)
        text = read
    editor = EditorForm(formdata=None, document=text)
    return render_template("rules/editor.html", form=editor, problems=_json_problems(text),
                           replaces=None)


def _from_version() -> str | Response:
    copied = request.args.get("from", type=int)
    replaced = request.args.get("replaces", type=int)
    number = replaced if replaced is not None else copied
    if number is None:
        return redirect(url_for(".home"))
    with current_ledger().sessions() as session:
        state = load_versions(session, now()).by_version.get(number)
        if state is None:
            abort(404)
    if replaced is not None and (state.status is not Status.DRAFT
                                 or state.row.author != current_principal().username):
        replaced = None  # only your own draft is replaced; anything else is copied
    editor = EditorForm(formdata=None, document=_pretty(json.loads(state.row.document)),
                        replaces="" if replaced is None else str(replaced))
    return render_template("rules/editor.html", form=editor, problems=[], replaces=replaced,
                           copied=number)


@blp.route("/drafts", methods=["POST"])
@page(RISK_OFFICER)
def save_draft() -> Response | tuple[str, int]:
    form = EditorForm()
    replaces = _replaces(form.replaces.data)
    if not form.validate():
        return render_template("rules/editor.html", form=form, problems=[],
                               replaces=replaces), 422
    text = form.document.data or ""
    problems = _json_problems(text)
    if problems:
        return render_template("rules/editor.html", form=form, problems=problems,
                               replaces=replaces), 422
    ledger = current_ledger()
    try:
        with ledger.sessions.begin() as session:
            version = lifecycle.draft(session, actor(), json.loads(text),
                                      form.comment.data or "", ledger.clock(), replaces)
    except InvalidInput as error:
        return render_template("rules/editor.html", form=form,
                               problems=_document_problems(error), replaces=replaces), 422
    except ServiceError as error:
        # Replacing a draft that is no longer one, or another officer's.
        with ledger.sessions() as session:
            versions = load_versions(session, ledger.clock())
        problem = refusal_message(error, replaces or 0, versions)
        return render_template("rules/editor.html", form=form, problems=[],
                               problem=problem, replaces=replaces), http_status(error)
    flash(_("Version %(version)s is saved as a draft.", version=version))
    return redirect(url_for(".version_page", version=version))


def _document_problems(error: InvalidInput) -> list[Problem]:
    """The service's problems by path (`document.tiers[2].when`), as paths in the document."""
    found = []
    for key, message in (error.errors or {}).items():
        if key == "document":
            path = WHOLE_DOCUMENT
        elif key.startswith(DOCUMENT_PREFIX):
            path = key.removeprefix(DOCUMENT_PREFIX)
        else:
            path = key
        found.append(Problem(path, problem_message(message)))
    return found or [Problem(WHOLE_DOCUMENT, problem_message(str(error)))]


def _json_problems(text: str) -> list[Problem]:
    try:
        json.loads(text)
    except json.JSONDecodeError as error:
        return [Problem(WHOLE_DOCUMENT,
                        _("This is not JSON: line %(line)s, column %(column)s (%(reason)s).",
                          line=error.lineno, column=error.colno, reason=error.msg))]
    return []


def _read_file(upload: FileStorage | None) -> str | None:
    if upload is None:
        return None
    content = upload.stream.read(DOCUMENT_SIZE_MAX_BYTES + 1)
    if len(content) > DOCUMENT_SIZE_MAX_BYTES:
        return None
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    try:
        return _pretty(json.loads(text))
    except json.JSONDecodeError:
        return text  # shown as it is, with where it stops being JSON


def _pretty(document: object) -> str:
    return json.dumps(document, ensure_ascii=False, indent=2)


def _replaces(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None
