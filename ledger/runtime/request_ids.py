"""The request id of the HTTP request being answered (SPEC §15), for every log line written
while answering it.

A contextvar, not a thread-local: the API's request context sets it and every record logged in
that context (by our code or a library's) carries it, whichever server runs the app. It lives in
the shared runtime because the log handlers of every process (ledger, adapter, witness) add it.
"""

from __future__ import annotations

import logging
import re
import uuid
from contextvars import ContextVar

from ledger.contract.redaction import redact

REQUEST_ID_HEADER = "X-Request-Id"
REQUEST_ID_LENGTH_MAX = 64
# What a sane id is made of (and what an answer's id always is).
REQUEST_ID_PATTERN = rf"[A-Za-z0-9._-]{{1,{REQUEST_ID_LENGTH_MAX}}}"
_SANE = re.compile(REQUEST_ID_PATTERN)
# A mobile number is 11 digits, a bank card 16 to 19: digits alone (perhaps grouped), this
# many, may be somebody's. (A run of digits inside a hexadecimal id is common and harmless.)
_NUMBER_ALONE = re.compile(r"[0-9]{11,}")
_GROUPING = re.compile(r"[._-]")

current_request_id: ContextVar[str | None] = ContextVar("pointsledger_request_id",
                                                        default=None)


def request_id_for(incoming: str | None) -> str:
    """The client's own id when it is sane, else a new one.

    Sane: 1 to 64 of `A-Z a-z 0-9 . _ -`, and nothing that could be personal or secret (an ID
    number, a phone or card number, a token, a key): the id is echoed and written in every log
    line of the request, so a value that could hold any of those is replaced, never quoted.
    """
    if (incoming is not None and _SANE.fullmatch(incoming)
            and not _NUMBER_ALONE.fullmatch(_GROUPING.sub("", incoming))
            and redact(incoming) == incoming):
        return incoming
    return uuid.uuid4().hex


class RequestIdFilter(logging.Filter):
    """Gives each record logged while a request is answered its `request_id` (the JSON lines
    carry it as a field, the text lines at their end)."""

    def filter(self, record: logging.LogRecord) -> bool:
        request_id = current_request_id.get()
        if request_id is not None and not hasattr(record, "request_id"):
            record.request_id = request_id
        return True
