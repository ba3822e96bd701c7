"""The flask-smorest Api: OpenAPI 3.1 at /api/v1/openapi.json, errors as problem details."""

from __future__ import annotations

import http
from typing import Any

import flask_smorest
from flask import Flask
from flask_smorest.utils import prepare_response

from ledger.api import converters
from ledger.api.access import SECURITY_SCHEME
from ledger.api.problems import PROBLEM_CONTENT_TYPE
from ledger.api.schemas import ProblemSchema

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
    api = LedgerApi(app)
    api.register_converter(converters.BoundedIntegerConverter, converters.parameter_schema)
    api.spec.components.security_scheme(
        SECURITY_SCHEME, {"type": "http", "scheme": "bearer",
                          "description": "an API token from `pointsledger tokens create`"})
    return api
