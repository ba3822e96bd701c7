"""The console: the pages branch staff, risk officers, auditors, admins and platform operators
work in (SPEC §13), served by the API's Flask app under /console/.

Server-rendered (Jinja2), in two languages (ledger.console.i18n), with sessions on the server
(ledger.console.sessions), CSRF on every form and default-deny access (ledger.console.access),
and a strict CSP (ledger.console.headers). Pages call the same service layer as the API: no
rule, check or query is written a second time here.

Each area is a blueprint of its own, nested in the `console` blueprint, with its templates and
its catalog beside it: counter and branch (tellers, supervisors), rules (risk officers), ledger
(auditors), admin, and platform (a platform's operator).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import traceback
import uuid
from datetime import timedelta

from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from flask import Blueprint, Flask, redirect, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from ledger.bootstrap import Ledger
from ledger.console import auth, home, i18n, jobs
from ledger.console.access import csrf, current_principal_or_none, enforce_page_access
from ledger.console.auth import sign_out_form
from ledger.console.headers import add_console_headers
from ledger.console.navigation import places_for, role_name
from ledger.console.sessions import LIFETIME_CONFIG, ConsoleSessionInterface
from ledger.contract.redaction import redact
from ledger.service.console_sessions import Lifetime
from ledger.service.jobs import JobRunner

log = logging.getLogger(__name__)

SECRET_KEY_LABEL = b"pointsledger console session and CSRF signing key v1"


def init_console(app: Flask, ledger: Ledger) -> None:
    """Mount the console on the app: `/` leads to it."""
    app.secret_key = _secret_key(ledger)
    app.config[LIFETIME_CONFIG] = Lifetime(timedelta(seconds=ledger.settings.console_idle_s),
                                           timedelta(seconds=ledger.settings.console_max_s))
    # Checked by the console's own hook, on its pages only: the API's routes take tokens.
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    app.config["WTF_CSRF_TIME_LIMIT"] = None  # the session's own expiry bounds the token
    app.session_interface = ConsoleSessionInterface()
    csrf.init_app(app)
    i18n.install(app)
    jobs.install(app, JobRunner(ledger.sessions, ledger.clock))
    app.jinja_env.globals.update(navigation=_navigation, principal=current_principal_or_none,
                                 role_name=role_name,
                                 sign_out_form=sign_out_form)

    console = Blueprint("console", __name__, url_prefix="/console",
                        template_folder="templates", static_folder="static")
    console.before_request(enforce_page_access)
    console.after_request(add_console_headers)
    console.register_error_handler(HTTPException, _error_page)
    console.register_error_handler(Exception, _unexpected_page)
    for area in (auth.blp, jobs.blp, *_areas(), home.blp):
        console.register_blueprint(area)
    app.register_blueprint(console)
    app.add_url_rule("/", "root", _to_console)


def _areas() -> tuple[Blueprint, ...]:
    from ledger.console import areas

    return areas.BLUEPRINTS


def _to_console() -> Response:
    return redirect("/console/")


def _navigation() -> list[object]:
    principal = current_principal_or_none()
    return [] if principal is None else list(places_for(principal))


def _error_page(error: HTTPException) -> tuple[str, int]:
    status = error.code or 500
    csrf_refused = isinstance(error, CSRFError)
    return render_template("console/error.html", status=status,
                           csrf_refused=csrf_refused), status


def _unexpected_page(error: Exception) -> tuple[str, int]:
    """A page, not the API's problem document; the incident id ties it to the log line (the
    traceback redacted: it may quote what a person typed)."""
    incident = uuid.uuid4()
    log.error("unexpected error %s on console page %s\n%s", incident, request.endpoint,
              redact("".join(traceback.format_exception(error))))
    return render_template("console/error.html", status=500, csrf_refused=False,
                           incident=incident), 500


def _secret_key(ledger: Ledger) -> bytes:
    """Signs the anonymous session cookie and the CSRF tokens. Derived from the ledger's own
    key, which every process of a deployment already shares (gunicorn's workers must agree),
    one way: knowing it tells nothing of the ledger key."""
    seed = ledger.ledger_key().private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    return hmac.new(seed, SECRET_KEY_LABEL, hashlib.sha256).digest()
