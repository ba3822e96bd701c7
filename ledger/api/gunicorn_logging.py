"""gunicorn's logger: in the format of POINTSLEDGER_LOG_FORMAT, with request ids, and without
resident ID numbers, tokens, keys nor passwords (SPEC §4.4, §7, §15).

gunicorn writes each request line to its access log as it came: a teller who types an ID
number where the pseudonym goes (`GET /api/v1/residents/3301…`), or a client that sends its
token as `?access_token=plt_…`, would leave it in the log. Its access line is written after the
answer, outside the request: the request id is taken from the answer's `X-Request-Id` header.
The application's own lines go to the root logger, configured here as the command line does.
Run gunicorn with `--logger-class ledger.api.gunicorn_logging.RedactingLogger`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from gunicorn import glogging

from ledger.contract.redaction import RedactingFilter
from ledger.runtime.log_format import (
    JSON,
    LogFormatError,
    TextFormatter,
    configure_logging,
    formatter,
    log_format_from_environment,
)
from ledger.runtime.request_ids import REQUEST_ID_HEADER

# gunicorn's name for a response header among the atoms its access line is formatted from.
_REQUEST_ID_ATOM = "{" + REQUEST_ID_HEADER.lower() + "}o"


class AccessRequestIdFilter(logging.Filter):
    """The access line's `request_id`, from the answer's header, and as fields of the event
    (JSON) its method, status and duration (gunicorn passes its atoms as the record's
    arguments; the redacting filter, after this one, may drop them). The path stays in the
    message alone, where the redaction reads it."""

    def filter(self, record: logging.LogRecord) -> bool:
        atoms = record.args
        if isinstance(atoms, Mapping):
            request_id = atoms.get(_REQUEST_ID_ATOM)
            if isinstance(request_id, str) and request_id != "-":
                record.request_id = request_id
            record.method = atoms.get("m")
            record.status = _integer(atoms.get("s"))
            microseconds = _integer(atoms.get("D"))
            record.duration_ms = None if microseconds is None else microseconds / 1000
        return True


def _integer(atom: object) -> int | None:
    text = str(atom)
    return int(text) if text.isascii() and text.isdigit() else None


class RedactingLogger(glogging.Logger):  # type: ignore[misc]  # gunicorn ships no types
    def setup(self, cfg: Any) -> None:
        try:
            log_format = log_format_from_environment()
        except LogFormatError as error:
            raise SystemExit(f"error: {error}") from None
        super().setup(cfg)
        configure_logging(log_format)
        _add_filter_once(self.access_log, AccessRequestIdFilter)
        for log in (self.access_log, self.error_log):
            _add_filter_once(log, RedactingFilter)
        access_formatter = (formatter(JSON) if log_format == JSON
                            else TextFormatter(self.access_fmt,
                                               f"{self.access_fmt} request_id=%(request_id)s"))
        for handler in self.access_log.handlers:
            handler.setFormatter(access_formatter)
        if log_format == JSON:
            for handler in self.error_log.handlers:
                handler.setFormatter(formatter(JSON))


def _add_filter_once(log: logging.Logger, kind: type[logging.Filter]) -> None:
    # setup runs again on every configuration reload (SIGHUP).
    if not any(isinstance(existing, kind) for existing in log.filters):
        log.addFilter(kind())
