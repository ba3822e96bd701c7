"""What no log line may hold, in any process of the ledger or of an adapter: a resident ID
number (SPEC §4.4, masked as in ledger.contract.personal_data), one of the ledger's bearer
tokens (SPEC §7), a private key (`whsk_…`, SPEC §3) or a password (SPEC §15).

Our own messages never quote either; this guards text we do not control: request lines in an
access log (a token sent as `?access_token=` although only the Authorization header counts, an
ID number typed where the pseudonym goes, `/residents/a330109…` included), a platform's values
quoted by a library, and the tracebacks of unexpected exceptions. One filter, put on every
handler of the root logger by the command line (and on gunicorn's loggers), so that a line
written by any library passes through it.
"""

from __future__ import annotations

import logging
import re

from ledger.contract.personal_data import mask_id_numbers

# A token of ours anywhere (`plt_` then URL-safe characters, or percent escapes of anything),
# and whatever a query string names a token, whatever its shape.
_TOKEN = re.compile(r"plt(?:_|%5f)[A-Za-z0-9_.~%-]*", re.IGNORECASE)
_TOKEN_PARAMETER = re.compile(r"(?<![A-Za-z0-9_])((?:access_)?token=)[^&\s\"']*",
                              re.IGNORECASE)
TOKEN_REDACTED = "[token]"  # noqa: S105 - what stands in for a token, not one
# A private key in its text form (base64, or percent-escaped in a URL), as a platform's key file
# or `keys generate` holds it: quoted by an error about a key put where a public one belongs.
_PRIVATE_KEY = re.compile(r"whsk(?:_|%5f)[A-Za-z0-9+/=%]*", re.IGNORECASE)
PRIVATE_KEY_REDACTED = "[private key]"
# A password cannot be told by its shape: only where a form or a query string names it (a
# sign-in form posted to the wrong place, a request line that carries one; the console's forms
# name it `password`, and `repeated` for the second typing).
_PASSWORD_PARAMETER = re.compile(r"(?<![A-Za-z0-9_])(\w*(?:password|passwd)=|repeated=)"
                                 r"[^&\s\"']*",
                                 re.IGNORECASE)
PASSWORD_REDACTED = "[password]"  # noqa: S105 - what stands in for a password, not one


def redact(text: str) -> str:
    """The text without tokens, private keys or named passwords, and with every
    ID-number-shaped run masked."""
    text = _TOKEN_PARAMETER.sub(rf"\g<1>{TOKEN_REDACTED}", text)
    text = _PASSWORD_PARAMETER.sub(rf"\g<1>{PASSWORD_REDACTED}", text)
    text = _PRIVATE_KEY.sub(PRIVATE_KEY_REDACTED, _TOKEN.sub(TOKEN_REDACTED, text))
    return mask_id_numbers(text)


class RedactingFilter(logging.Filter):
    """Rewrites a record's message, and the traceback and stack it carries, without tokens,
    keys, passwords or ID numbers."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def redact_log_handlers(logger: logging.Logger | None = None) -> None:
    """Put a RedactingFilter on every handler of the logger (the root logger by default): a
    handler's filters see the records of every logger that propagates to it, a logger's own
    filters only the records logged on it."""
    for handler in (logger or logging.getLogger()).handlers:
        if not any(isinstance(existing, RedactingFilter) for existing in handler.filters):
            handler.addFilter(RedactingFilter())
