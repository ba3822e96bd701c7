"""Errors a use case raises for a caller to turn into a problem (HTTP) or a sentence (CLI)."""


class ServiceError(Exception):
    """Something the caller asked for cannot be done; the message is one clear sentence."""

    code = "invalid_request"


class NotFound(ServiceError):
    code = "not_found"


class Conflict(ServiceError):
    code = "conflict"


class InvalidInput(ServiceError):
    code = "invalid_input"
