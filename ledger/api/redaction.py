"""Keeping resident ID numbers out of log lines (SPEC §4.4).

Our own messages never contain one; this guards text we do not control: request paths in the
access log and the messages of unexpected exceptions.
"""

from __future__ import annotations

import logging
import re

# 17 digits and a check character, standing alone. Pseudonyms (64 hex) never match.
_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])[0-9]{17}[0-9Xx](?![0-9A-Za-z])")
REDACTED = "[id-number]"


def redact_id_numbers(text: str) -> str:
    return _ID_NUMBER.sub(REDACTED, text)


class RedactIdNumbers(logging.Filter):
    """A logging filter that rewrites a record's message without ID numbers."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact_id_numbers(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True
