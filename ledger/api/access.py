"""Access control, default deny (SPEC §7).

Each view declares who may call it with one decorator, placed right under `@blp.route`:
`@roles("auditor", "admin")`, `@any_role`, `@public` or `@signature_authenticated`. A hook
before every request finds the rule of the matched view; a view that declares nothing is refused
to everyone, so forgetting the decorator can never open a route.

`@any_role` means any of the bank's business roles: a platform operator and a monitor (SPEC §12)
are let in only where a route names them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

from flask import Flask, current_app, g, request

from ledger.api.problems import ProblemError
from ledger.app_context import current_ledger
from ledger.domain.roles import BUSINESS_ROLES, ROLES
from ledger.service.access import Principal, authenticate

log = logging.getLogger(__name__)

View = TypeVar("View", bound=Callable[..., Any])

ACCESS_ATTRIBUTE = "_pointsledger_access"
SECURITY_SCHEME = "bearer"
TOKEN_LENGTH_MAX = 512


class Kind(StrEnum):
    PUBLIC = "public"
    SIGNATURE = "signature"
    BEARER = "bearer"


@dataclass(frozen=True)
class AccessRule:
    kind: Kind
    roles: frozenset[str] = frozenset()  # for BEARER: the roles allowed


PUBLIC = AccessRule(Kind.PUBLIC)

# Routes that flask-smorest registers itself, so no decorator of ours can mark them, and `/`,
# which leads to the console.
ENDPOINT_RULES = {"api-docs.openapi_json": PUBLIC, "root": PUBLIC}
# The console's pages declare their readers with its own decorators (ledger.console.access),
# enforced by its own hook.
CONSOLE_BLUEPRINT = "console"


def roles(*names: str) -> Callable[[View], View]:
    unknown = set(names) - set(ROLES)
    if not names or unknown:
        raise ValueError(f"roles() needs known roles, not {sorted(unknown)}")
    return _declare(AccessRule(Kind.BEARER, frozenset(names)))


def any_role(view: View) -> View:
    """Any of the bank's business roles (not a platform operator, not a monitor)."""
    return _declare(AccessRule(Kind.BEARER, frozenset(BUSINESS_ROLES)))(view)


def public(view: View) -> View:
    return _declare(PUBLIC)(view)


def signature_authenticated(view: View) -> View:
    """The caller is authenticated by the signature inside the request, checked by the view."""
    return _declare(AccessRule(Kind.SIGNATURE))(view)


def _declare(rule: AccessRule) -> Callable[[View], View]:
    def decorator(view: View) -> View:
        setattr(view, ACCESS_ATTRIBUTE, rule)
        _document(view, rule)
        return view

    return decorator


def _document(view: Callable[..., Any], rule: AccessRule) -> None:
    """Put the rule in the OpenAPI document through flask-smorest's `_apidoc` convention."""
    apidoc = dict(getattr(view, "_apidoc", {}))
    manual = dict(apidoc.get("manual_doc", {}))
    if rule.kind is Kind.BEARER:
        manual["security"] = [{SECURITY_SCHEME: []}]
        manual["x-roles"] = sorted(rule.roles)
        responses = dict(manual.get("responses", {}))
        responses.setdefault("401", "UNAUTHORIZED")
        responses.setdefault("403", "FORBIDDEN")
        manual["responses"] = responses
    else:
        manual["security"] = []
    apidoc["manual_doc"] = manual
    view._apidoc = apidoc  # type: ignore[attr-defined]


def rule_for_endpoint(app: Flask, endpoint: str) -> AccessRule | None:
    if endpoint in ENDPOINT_RULES:
        return ENDPOINT_RULES[endpoint]
    view = app.view_functions.get(endpoint)
    rule = getattr(view, ACCESS_ATTRIBUTE, None)
    return rule if isinstance(rule, AccessRule) else None


def enforce_access() -> None:
    """before_request hook: authenticate and authorize, or raise a 401/403 problem."""
    if request.routing_exception is not None or request.endpoint is None:
        return  # no route matched: the 404 or 405 follows
    if request.blueprint is not None and request.blueprint.split(".")[0] == CONSOLE_BLUEPRINT:
        return
    rule = rule_for_endpoint(current_app, request.endpoint)
    if rule is None:
        log.error("refused %s %s: the view declares no access rule",
                  request.method, request.endpoint)
        raise ProblemError(403, "forbidden", "this route is not open to anyone")
    if rule.kind is not Kind.BEARER:
        return
    principal = _authenticated_principal()
    if principal.role not in rule.roles:
        raise ProblemError(403, "forbidden",
                           f"the role {principal.role} may not use this route")
    g.principal = principal


def _authenticated_principal() -> Principal:
    authorization = request.authorization
    if authorization is None or authorization.type != "bearer" or not authorization.token:
        raise ProblemError(401, "unauthorized",
                           "this route needs an Authorization: Bearer token",
                           headers={"WWW-Authenticate": 'Bearer realm="pointsledger"'})
    token = authorization.token
    principal = None
    if len(token) <= TOKEN_LENGTH_MAX:
        ledger = current_ledger()
        # A transaction of its own: authenticating records the token's use (once a minute).
        with ledger.sessions.begin() as session:
            principal = authenticate(session, token, ledger.clock())
    if principal is None:
        raise ProblemError(
            401, "invalid_token", "the token is not valid: unknown, expired or revoked, or its "
            "user is disabled",
            headers={"WWW-Authenticate": 'Bearer realm="pointsledger", error="invalid_token"'})
    return principal


def current_principal() -> Principal:
    principal = g.principal
    assert isinstance(principal, Principal)
    return principal
