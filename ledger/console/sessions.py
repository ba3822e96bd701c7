"""Flask's session for the console: on the server once signed in, in a signed cookie before.

Signed in, the browser holds only the secret of a session kept in the database
(ledger.service.console_sessions), so that signing out, disabling a user or changing their role
ends it on the server. Before sign-in the sign-in form still needs a CSRF secret and the
language chosen; those few bytes travel in a cookie signed with the app's secret key, so that a
stranger who never signs in cannot fill the database with sessions.

Cookies are HttpOnly, SameSite=Lax, limited to /console, and Secure whenever the request arrived
over HTTPS (behind a proxy that terminates TLS, run the app with werkzeug's ProxyFix so that it
knows).
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Request, Response, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface, SessionMixin

from ledger.app_context import current_ledger
from ledger.service import console_sessions
from ledger.service.access import Principal
from ledger.service.console_sessions import EndReason

SIGNED_IN_COOKIE = "pointsledger_console"
SIGNED_OUT_COOKIE = "pointsledger_console_anonymous"
COOKIE_PATH = "/console"
LIFETIME_CONFIG = "POINTSLEDGER_CONSOLE_LIFETIME"  # a console_sessions.Lifetime


class ConsoleSession(SecureCookieSession):
    """The session of one request: a signed-in user's (with `secret` and `principal`) or an
    anonymous one."""

    def __init__(self, data: dict[str, Any] | None = None, secret: str | None = None,
                 principal: Principal | None = None, expired: bool = False) -> None:
        super().__init__(data or {})
        self.secret = secret
        self.principal = principal
        self.modified = False
        # A signed-in session that just ended (signed out, idle, too old): clear the cookie.
        self.expired = expired
        self.began = False

    def sign_in(self, principal: Principal) -> None:
        """Start a new server session for `principal`, carrying over only the language; the
        CSRF secret of the anonymous session is not carried over (a fixed one would let an
        attacker who planted it forge this user's forms)."""
        kept = {key: value for key, value in self.items() if key == "lang"}
        ledger = current_ledger()
        with ledger.sessions.begin() as session:
            if self.secret is not None:  # somebody signing in over a session still open
                console_sessions.end(session, self.secret, ledger.clock(), EndReason.REPLACED)
            self.secret = console_sessions.begin(session, principal, kept, ledger.clock())
        self.clear()
        self.update(kept)
        self.principal = principal
        self.began = True

    def sign_out(self) -> None:
        if self.secret is not None:
            ledger = current_ledger()
            with ledger.sessions.begin() as session:
                console_sessions.end(session, self.secret, ledger.clock(), EndReason.SIGNED_OUT)
        self.secret, self.principal = None, None
        self.clear()
        self.expired = True


class ConsoleSessionInterface(SecureCookieSessionInterface):
    """Server sessions for the signed-in; the signed cookie of Flask's own interface, under
    another name, for the rest."""

    def get_cookie_name(self, app: Flask) -> str:
        return SIGNED_OUT_COOKIE

    def get_cookie_path(self, app: Flask) -> str:
        return COOKIE_PATH

    def get_cookie_secure(self, app: Flask) -> bool:
        return request.is_secure

    def get_cookie_samesite(self, app: Flask) -> str:
        return "Lax"

    def open_session(self, app: Flask, request: Request) -> ConsoleSession | None:
        if not _is_console(request):
            return ConsoleSession()  # the API has no sessions: nothing is read or written
        secret = request.cookies.get(SIGNED_IN_COOKIE)
        if secret:
            ledger = current_ledger()
            lifetime = app.config[LIFETIME_CONFIG]
            with ledger.sessions.begin() as session:
                loaded = console_sessions.load(session, secret, ledger.clock(), lifetime)
            if loaded is not None:
                return ConsoleSession(loaded.data, secret, loaded.principal)
        anonymous = super().open_session(app, request)
        data = dict(anonymous) if isinstance(anonymous, SecureCookieSession) else {}
        return ConsoleSession(data, expired=bool(secret))

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        if not isinstance(session, ConsoleSession) or not _is_console(request):
            return
        secure, path = self.get_cookie_secure(app), COOKIE_PATH
        if session.secret is not None:
            if session.began:
                response.set_cookie(SIGNED_IN_COOKIE, session.secret, path=path, secure=secure,
                                    httponly=True, samesite="Lax")
                response.delete_cookie(SIGNED_OUT_COOKIE, path=path)
            if session.modified:
                ledger = current_ledger()
                with ledger.sessions.begin() as stored:
                    console_sessions.keep(stored, session.secret, dict(session))
            return
        if session.expired:
            response.delete_cookie(SIGNED_IN_COOKIE, path=path, secure=secure, httponly=True,
                                   samesite="Lax")
        if session.modified or session.expired:
            anonymous = SecureCookieSession(dict(session))
            anonymous.modified = True
            super().save_session(app, anonymous, response)


def _is_console(asked: Request) -> bool:
    return asked.path == COOKIE_PATH or asked.path.startswith(COOKIE_PATH + "/")
