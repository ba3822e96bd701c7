"""The flask-smorest Api: OpenAPI 3.1 at /api/v1/openapi.json, errors as problem details, and
the request id every answer carries (SPEC §15)."""

from __future__ import annotations

import http
from typing import Any

import flask_smorest
from apispec import APISpec, BasePlugin
from flask import Flask
from flask_smorest.utils import prepare_response

from ledger.api import converters
from ledger.api.access import SECURITY_SCHEME
from ledger.api.problems import PROBLEM_CONTENT_TYPE
from ledger.api.schemas import ProblemSchema
from ledger.runtime.request_ids import (
    REQUEST_ID_HEADER,
    REQUEST_ID_LENGTH_MAX,
    REQUEST_ID_PATTERN,
)

API_PREFIX = "/api/v1"

SETTINGS: dict[str, Any] = {
    "API_TITLE": "pointsledger",
    "API_VERSION": "1",
    "OPENAPI_VERSION": "3.1.0",
    "OPENAPI_URL_PREFIX": API_PREFIX,
    "OPENAPI_JSON_PATH": "openapi.json",
    "API_SPEC_OPTIONS": {
        "info": {"description": "Township governance points, kept in a signed, append-only, "
                                "hash-chained ledger. Errors are RFC 9457 problem details."},
    },
}


REQUEST_ID_PARAMETER = {
    "in": "header", "name": REQUEST_ID_HEADER, "required": False, "schema": {"type": "string"},
    "description": "The client's name for the request, answered back and written in the log "
                   f"lines of the request when it is sane (1 to {REQUEST_ID_LENGTH_MAX} of "
                   "`A-Z a-z 0-9 . _ -`, nothing like an ID number, a phone or card number or a "
                   "token); any other value is replaced by a new id, never refused."}
REQUEST_ID_RESPONSE_HEADER = {
    "schema": {"type": "string", "pattern": f"^{REQUEST_ID_PATTERN}$"},
    "description": "The request's id (the client's own when sane, else a new one), which every "
                   "log line written while answering carries."}


class RequestIdPlugin(BasePlugin):
    """`X-Request-Id` on every operation (the optional request header) and on each of its
    responses, whether written inline or shared among the components: every answer of the app
    carries it (ledger.runtime.wsgi_request_ids)."""

    def init_spec(self, spec: APISpec) -> None:
        spec.components.header(REQUEST_ID_HEADER, REQUEST_ID_RESPONSE_HEADER, lazy=True)
        spec.components.parameter(REQUEST_ID_HEADER, "header", REQUEST_ID_PARAMETER, lazy=True)

    def response_helper(self, response: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
        return {"headers": {**response.get("headers", {}), REQUEST_ID_HEADER: REQUEST_ID_HEADER}}

    def operation_helper(self, path: str | None = None,
                         operations: dict[str, Any] | None = None, **_kwargs: Any) -> None:
        for operation in (operations or {}).values():
            operation.setdefault("parameters", []).append(REQUEST_ID_HEADER)
            for response in operation.get("responses", {}).values():
                if isinstance(response, dict) and "$ref" not in response:
                    response.update(self.response_helper(response))


class LedgerApi(flask_smorest.Api):  # type: ignore[misc]  # the base class is untyped
    ERROR_SCHEMA = ProblemSchema

    def _register_responses(self) -> None:
        """flask-smorest's shared error responses, declared as application/problem+json."""
        for status in http.HTTPStatus:
            response: dict[str, Any] = {"description": status.phrase}
            if status >= 400:
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, PROBLEM_CONTENT_TYPE)
            self.spec.components.response(status.name, response, lazy=True)
        default = {"description": "Problem details", "schema": self.ERROR_SCHEMA}
        prepare_response(default, self.spec, PROBLEM_CONTENT_TYPE)
        self.spec.components.response(self.DEFAULT_ERROR_RESPONSE_NAME, default, lazy=True)


def make_api(app: Flask) -> LedgerApi:
    app.config.update(SETTINGS)
    # Before any blueprint: a rule's converters are chosen when the rule is added.
    converters.install(app)
    api = LedgerApi(app, spec_kwargs={"extra_plugins": [RequestIdPlugin()]})
    api.register_converter(converters.BoundedIntegerConverter, converters.parameter_schema)
    api.spec.components.security_scheme(
        SECURITY_SCHEME, {"type": "http", "scheme": "bearer",
                          "description": "an API token from `pointsledger tokens create`"})
    return api
