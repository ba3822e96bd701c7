"""How every process writes its log lines (SPEC §15): `POINTSLEDGER_LOG_FORMAT` is `text` (the
default, for a person reading a terminal) or `json` (one object per line, for a log collector).

The ledger's commands, the adapters and the witnesses (all run by the `pointsledger` command
line) and gunicorn (ledger.api.gunicorn_logging) take their handlers from here, so that every
line, in either format, passes the redaction filter and carries the request id of the request
being answered.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from datetime import date, datetime
from typing import IO, Any

from pythonjsonlogger.json import JsonFormatter

from ledger.contract.redaction import RedactingFilter, redact, redact_log_handlers
from ledger.runtime.request_ids import RequestIdFilter

LOG_FORMAT_VARIABLE = "POINTSLEDGER_LOG_FORMAT"
TEXT = "text"
JSON = "json"
LOG_FORMATS = (TEXT, JSON)
TEXT_LINE = "%(asctime)s %(levelname)s %(name)s: %(message)s"
TEXT_LINE_IN_REQUEST = "%(asctime)s %(levelname)s %(name)s request_id=%(request_id)s: %(message)s"


class LogFormatError(ValueError):
    """POINTSLEDGER_LOG_FORMAT names no format; the message names the variable."""


def log_format_from_environment(environ: Mapping[str, str] | None = None) -> str:
    env = os.environ if environ is None else environ
    value = env.get(LOG_FORMAT_VARIABLE) or TEXT
    if value not in LOG_FORMATS:
        raise LogFormatError(f"{LOG_FORMAT_VARIABLE} must be {TEXT} or {JSON}, not {value!r}")
    return value


class TextFormatter(logging.Formatter):
    """The plain line, and another for a line written during a request (by default the
    request id before the message, so that it stays on the first line whatever the message and
    its traceback span)."""

    def __init__(self, line: str = TEXT_LINE, line_in_request: str = TEXT_LINE_IN_REQUEST
                 ) -> None:
        super().__init__(line)
        self._in_request = logging.PercentStyle(line_in_request)

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 - logging's name
        if getattr(record, "request_id", None) is None:
            return super().formatMessage(record)
        return self._in_request.format(record)


class RedactingJsonFormatter(JsonFormatter):
    """python-json-logger's formatter, whose every value passes the redaction.

    The library formats a record's traceback afresh from its exc_info (not from the exc_text
    that RedactingFilter cleaned), and the fields given with `extra=` are not the message: so
    the values are redacted here, after the library has gathered them.
    """

    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        redacted = {key: _redacted(value) for key, value in log_data.items()}
        # `ts` first: a person scanning the lines reads the time before anything else.
        return {"ts": redacted.pop("ts", None), **redacted}


def _redacted(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, bool | float | datetime | date) or value is None:
        return value
    if isinstance(value, int):
        return value if redact(str(value)) == str(value) else redact(str(value))
    if isinstance(value, Mapping):
        return {str(key): _redacted(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_redacted(item) for item in value]
    # Anything else would be written as its str(): redact that.
    return redact(str(value))


def formatter(log_format: str) -> logging.Formatter:
    """The formatter of a log format (`text` or `json`)."""
    if log_format == JSON:
        return RedactingJsonFormatter(
            "%(levelname)s %(name)s %(message)s",
            rename_fields={"levelname": "level", "name": "logger", "message": "msg"},
            timestamp="ts", json_ensure_ascii=False)
    return TextFormatter()


def log_handler(log_format: str, stream: IO[str] | None = None) -> logging.Handler:
    """A handler writing to `stream` (stderr by default) in the format, each line carrying the
    request id and passing the redaction."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter(log_format))
    handler.addFilter(RequestIdFilter())
    handler.addFilter(RedactingFilter())
    return handler


def configure_logging(log_format: str, level: int = logging.INFO) -> None:
    """The root logger writes in the format (unless something configured it already, as a test
    runner does); and whoever added its handlers, each of them redacts and carries request ids
    (a handler's filters see the records of every logger that propagates to it)."""
    logging.basicConfig(level=level, handlers=[log_handler(log_format)])
    add_request_ids()
    redact_log_handlers()


def add_request_ids(logger: logging.Logger | None = None) -> None:
    for handler in (logger or logging.getLogger()).handlers:
        if not any(isinstance(existing, RequestIdFilter) for existing in handler.filters):
            handler.addFilter(RequestIdFilter())
