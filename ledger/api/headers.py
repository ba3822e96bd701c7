"""Headers every answer carries (SPEC §7).

`nosniff` keeps a browser from reading a JSON or CSV answer as a page or a script. Balances,
entries and reconciliations are for the person who asked: `no-store` keeps them out of browser
and proxy caches, on errors too (a 403 still tells who may see what).
"""

from __future__ import annotations

from flask import Response, current_app, request

from ledger.api.access import Kind, rule_for_endpoint


def add_security_headers(response: Response) -> Response:
    """after_request hook; runs for error answers as well."""
    response.headers["X-Content-Type-Options"] = "nosniff"
    if _authenticated():
        response.headers["Cache-Control"] = "no-store"
    return response


def _authenticated() -> bool:
    """The route needs a bearer token, or the request brought one (to a route that is not)."""
    if "Authorization" in request.headers:
        return True
    if request.endpoint is None:
        return False
    rule = rule_for_endpoint(current_app, request.endpoint)
    return rule is not None and rule.kind is Kind.BEARER
