"""The HTTP API (SPEC §7): its blueprints, access rules, problems and headers, put on the app
by `init_api` (the app itself is made by `ledger.app.create_app`)."""

from __future__ import annotations

from flask import Flask

from ledger.api import (
    admin,
    audit,
    counter,
    credit_terms,
    events,
    health,
    ledger_routes,
    metrics,
    platforms,
    rejections,
    residents,
    rulesets,
    tlog,
    verifiable_log,
)
from ledger.api.access import enforce_access
from ledger.api.converters import refuse_out_of_range_path_integers
from ledger.api.headers import add_security_headers
from ledger.api.openapi import API_PREFIX, make_api
from ledger.api.problems import register_error_handlers


def init_api(app: Flask) -> None:
    """The API's routes under /api/v1 (and the health checks), its error handlers as problem
    JSON, default-deny access on every route, and its security headers."""
    api = make_api(app)
    for blueprint in (events.blp, platforms.blp, residents.blp, credit_terms.blp,
                      ledger_routes.blp, rejections.blp, rulesets.blp, counter.blp,
                      audit.blp, admin.blp, verifiable_log.ledger_blp,
                      verifiable_log.audit_blp):
        api.register_blueprint(blueprint, url_prefix=API_PREFIX)
    # Health checks, metrics (SPEC §15) and the tlog-tiles (SPEC §14) live outside /api/v1.
    for blueprint in (health.blp, metrics.blp, tlog.ledger_tiles_blp, tlog.audit_tiles_blp):
        api.register_blueprint(blueprint)
    register_error_handlers(app)
    app.before_request(enforce_access)
    app.before_request(refuse_out_of_range_path_integers)
    app.after_request(add_security_headers)
