"""RFC 9457 problem details: every error the API answers is `application/problem+json`.

Messages never echo what a caller sent (an ID number may hide in any field); an unexpected
exception is logged with an incident id and answered with that id only.
"""

from __future__ import annotations

import logging
import traceback
import uuid
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from flask import Flask, Response, current_app, request
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from ledger.contract.redaction import redact
from ledger.service.errors import Conflict, Forbidden, InvalidInput, NotFound, ServiceError

log = logging.getLogger(__name__)

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://pointsledger.dev/problems/"
VALIDATION_CODE = "invalid_input"
RETRY_AFTER_S = 5

_SERVICE_ERROR_STATUS: dict[type[ServiceError], int] = {
    NotFound: 404,
    Forbidden: 403,
    Conflict: 409,
    InvalidInput: 422,
}

# Titles a client can show; any other code falls back to the HTTP status phrase.
_TITLES = {
    "invalid_input": "The request is not valid",
    "unauthorized": "Authentication required",
    "invalid_token": "The token is not valid",
    "forbidden": "Not allowed",
    "malformed_json": "The event is not JSON",
    "schema_invalid": "The event breaks the envelope rules",
    "too_large": "The event is too large",
    "unknown_platform": "Unknown platform",
    "bad_signature": "The signature does not verify",
    "key_revoked": "The signing key is revoked",
    "timestamp_skew": "The signature timestamp is in the future",
    "id_conflict": "The event id is taken by another event",
    "seq_conflict": "The platform seq is taken by another event",
    "already_revoked": "The award is already revoked",
    "unknown_revocation_target": "The award to revoke is not recorded",
    "revocation_mismatch": "The revocation does not match the award",
    "queue_unavailable": "The event queue is unavailable",
    "database_unavailable": "The database is unavailable",
    "not_ready": "The service is not ready",
    "internal_error": "Internal error",
    "no_checkpoint": "No checkpoint is signed yet",
    "not_a_checkpoint_size": "Not the size of a signed checkpoint",
    "not_yet_checkpointed": "Not in a signed checkpoint yet",
    "no_such_tile": "The log holds no such tile",
}


class ProblemError(Exception):
    """Raise from a view or hook to answer with a problem document."""

    def __init__(self, status: int, code: str, detail: str, *,
                 errors: Mapping[str, str] | None = None,
                 headers: Mapping[str, str] | None = None,
                 extensions: Mapping[str, Any] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.errors = dict(errors) if errors else None
        self.headers = dict(headers or {})
        self.extensions = dict(extensions or {})


def invalid_input(errors: Mapping[str, str], detail: str = "the request is not valid"
                  ) -> ProblemError:
    return ProblemError(422, VALIDATION_CODE, detail, errors=errors)


def problem_response(problem: ProblemError) -> Response:
    document: dict[str, Any] = {
        **problem.extensions,
        "type": PROBLEM_TYPE_BASE + problem.code,
        "title": _TITLES.get(problem.code) or HTTPStatus(problem.status).phrase,
        "status": problem.status,
        "detail": problem.detail,
        "code": problem.code,
    }
    if problem.errors is not None:
        document["errors"] = problem.errors
    response = current_app.response_class(
        current_app.json.dumps(document), status=problem.status, mimetype=PROBLEM_CONTENT_TYPE)
    response.headers.update(problem.headers)
    return response


def register_error_handlers(app: Flask) -> None:
    """Registered after flask-smorest's Api, so these replace its JSON error handler."""
    app.register_error_handler(ProblemError, problem_response)
    app.register_error_handler(HTTPException, _http_exception)
    app.register_error_handler(ServiceError, _service_error)
    app.register_error_handler(OperationalError, _database_unavailable)
    app.register_error_handler(Exception, _unexpected)


def _http_exception(error: HTTPException) -> Response:
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    messages = data.get("messages")
    headers = {name: value for name, value in error.get_headers()
               if name.lower() != "content-type"}
    headers.update(data.get("headers") or {})
    if messages is not None:
        # webargs (through flask-smorest) refused the request's parameters or body.
        code = VALIDATION_CODE if status == 422 else _code_of(error)
        return problem_response(ProblemError(
            status, code, "the request is not valid", errors=field_errors(messages),
            headers=headers))
    return problem_response(ProblemError(status, _code_of(error), _detail_of(error),
                                         headers=headers))


def _code_of(error: HTTPException) -> str:
    return (error.name or "error").lower().replace(" ", "_").replace("'", "")


def _detail_of(error: HTTPException) -> str:
    # werkzeug's descriptions are fixed sentences about the request, never its content.
    return error.description or HTTPStatus(error.code or 500).phrase


def field_errors(messages: Mapping[str, Any]) -> dict[str, str]:
    """webargs' `{location: {field: [message, …]}}` as `{field: "message …"}`.

    A whole-body error (`{"json": ["Invalid JSON body."]}`) is filed under its location.
    """
    flat: dict[str, str] = {}
    for location, by_field in messages.items():
        if isinstance(by_field, Mapping):
            flat.update(_flatten(by_field, ""))
        else:
            flat[str(location)] = _text(by_field)
    return flat


def _flatten(messages: Any, prefix: str) -> dict[str, str]:
    if not isinstance(messages, Mapping):
        return {prefix: _text(messages)}
    flat: dict[str, str] = {}
    for key, value in messages.items():
        flat.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    return flat


def _text(messages: Any) -> str:
    if isinstance(messages, list | tuple):
        return " ".join(_text(message) for message in messages)
    return str(messages)


def _service_error(error: ServiceError) -> Response:
    status = next((status for kind, status in _SERVICE_ERROR_STATUS.items()
                   if isinstance(error, kind)), 400)
    return problem_response(ProblemError(status, error.code, str(error), errors=error.errors,
                                         extensions=error.figures))


def _database_unavailable(error: OperationalError) -> Response:
    # The message of a driver error may quote SQL parameters: log only its class.
    log.error("database unavailable in %s %s: %s", request.method, request.endpoint,
              type(error.orig).__name__)
    return problem_response(ProblemError(
        503, "database_unavailable", "the database cannot be reached; try again later",
        headers={"Retry-After": str(RETRY_AFTER_S)}))


def _unexpected(error: Exception) -> Response:
    incident = uuid.uuid4()
    # The path is left out, and the traceback redacted: either may carry what a caller sent.
    trace = redact("".join(traceback.format_exception(error)))
    log.error("unexpected error %s in %s %s\n%s", incident, request.method, request.endpoint,
              trace)
    return problem_response(ProblemError(
        500, "internal_error", f"an unexpected error occurred; it is logged as {incident}",
        extensions={"instance": f"urn:uuid:{incident}"}))
