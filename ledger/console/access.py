"""Who may open which console page, default deny (SPEC §13), as the API does it (§7).

Each view declares its readers with one decorator under its route: `@page("teller",
"supervisor")`, or `@signed_in_page` for any signed-in user, or `@public_page` (sign-in). A hook
before every console request finds the declaration: a view without one is refused to everyone;
somebody not signed in goes to the sign-in page; a signed-in user of another role gets the 403
page. Every POST must carry the form's CSRF token (Flask-WTF), or it is refused with 400 before
the view runs, so nothing changes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import abort, current_app, g, redirect, request, session, url_for
from flask_wtf.csrf import CSRFProtect
from werkzeug.wrappers import Response

from ledger.console.sessions import ConsoleSession
from ledger.domain.roles import ROLES
from ledger.service.access import Principal

View = TypeVar("View", bound=Callable[..., Any])

ACCESS_ATTRIBUTE = "_pointsledger_console_access"
# The stylesheets and the script (the console's, and an area's own): the sign-in page needs
# them before anybody signs in.
STATIC_ENDPOINT = "console.static"


def is_static(endpoint: str | None) -> bool:
    return endpoint is not None and (endpoint == STATIC_ENDPOINT or (
        endpoint.startswith("console.") and endpoint.endswith(".static")))
csrf = CSRFProtect()


@dataclass(frozen=True)
class PageRule:
    public: bool = False
    roles: frozenset[str] = frozenset(ROLES)


def page(*roles: str) -> Callable[[View], View]:
    unknown = set(roles) - set(ROLES)
    if not roles or unknown:
        raise ValueError(f"page() needs known roles, not {sorted(unknown)}")
    return _declare(PageRule(roles=frozenset(roles)))


def signed_in_page(view: View) -> View:
    return _declare(PageRule())(view)


def public_page(view: View) -> View:
    return _declare(PageRule(public=True))(view)


def _declare(rule: PageRule) -> Callable[[View], View]:
    def decorator(view: View) -> View:
        setattr(view, ACCESS_ATTRIBUTE, rule)
        return view

    return decorator


def enforce_page_access() -> Response | None:
    """before_request hook of the console's blueprints."""
    if request.method == "POST":
        csrf.protect()  # raises CSRFError (400) before anything else happens
    if is_static(request.endpoint):
        return None
    view = current_app.view_functions.get(request.endpoint or "")
    rule = getattr(view, ACCESS_ATTRIBUTE, None)
    if not isinstance(rule, PageRule):
        abort(403)
    principal = current_principal_or_none()
    if rule.public:
        return None
    if principal is None:
        return redirect(url_for("console.auth.sign_in_page", next=_local_next()))
    if principal.role not in rule.roles:
        abort(403)
    g.principal = principal
    return None


def current_principal_or_none() -> Principal | None:
    return session.principal if isinstance(session, ConsoleSession) else None


def current_principal() -> Principal:
    principal = g.principal
    assert isinstance(principal, Principal)
    return principal


def _local_next() -> str:
    """Where to come back after signing in: this page's path and query, never another host."""
    full = request.full_path.rstrip("?")
    return full if full.startswith("/console") else "/console/"
