"""Errors a use case raises for a caller to turn into a problem (HTTP) or a sentence (CLI)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class ServiceError(Exception):
    """Something the caller asked for cannot be done; the message is one clear sentence.

    `code` names the case for machines (the problem's `code`); `errors` maps fields to what is
    wrong with each, for an input refused field by field; `figures` are the numbers behind a
    refusal (a balance and a cost), for the caller to show."""

    code = "invalid_request"

    def __init__(self, message: str, *, code: str | None = None,
                 errors: Mapping[str, str] | None = None,
                 figures: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
        self.errors = dict(errors) if errors else None
        self.figures = dict(figures) if figures else {}


class NotFound(ServiceError):
    code = "not_found"


class Conflict(ServiceError):
    code = "conflict"


class InvalidInput(ServiceError):
    code = "invalid_input"


class Forbidden(ServiceError):
    """The caller is known but may not do this (a rule of the bank, such as four eyes)."""

    code = "forbidden"
