"""Request fields that refuse, as a 422 naming them, what the ledger cannot hold (SPEC §7).

A number past what a BIGINT column holds reaches SQLite as an OverflowError and PostgreSQL as a
numeric comparison; a moment before year 1 or after year 9999 once shifted to UTC cannot even be
a Python datetime. Either was a 500 before it was refused here, at the edge.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from marshmallow import ValidationError, fields, validate

# The largest value of a signed 64-bit column (BIGINT), which every id and seq of ours fits in.
INTEGER_MAX = 2**63 - 1


class BoundedInteger(fields.Integer):
    """A whole number from `minimum` (default 0) to INTEGER_MAX, documented with both bounds."""

    def __init__(self, *, minimum: int = 0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.validators.insert(0, validate.Range(minimum, INTEGER_MAX))


class UtcAwareDateTime(fields.AwareDateTime):
    """An RFC 3339 moment with its offset, read as UTC; refused when UTC has no such date
    (`0001-01-01T00:00:00+14:00` is in year 0)."""

    default_error_messages = {  # noqa: RUF012  # marshmallow merges this class attribute
        "out_of_range": "Not a moment between years 1 and 9999 once in UTC.",
    }

    def _deserialize(self, value: Any, attr: str | None, data: Any,
                     **kwargs: Any) -> dt.datetime:
        moment: dt.datetime = super()._deserialize(value, attr, data, **kwargs)
        try:
            return moment.astimezone(dt.UTC)
        except OverflowError:
            raise self.make_error("out_of_range") from None


class StrictBoolean(fields.Boolean):
    """JSON `true` or `false` only: marshmallow's Boolean also takes 0, 1, "yes", "off"…, which
    the OpenAPI document (`type: boolean`) refuses."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


class FullMatch(validate.Validator):
    """The whole value matches the pattern. Published anchored (`^…$`): JSON Schema's
    `pattern` matches anywhere in a value, and marshmallow's Regexp only from its start.
    (apispec publishes the `regex` of any validator that has one.)"""

    default_message = "String does not match expected pattern."

    def __init__(self, pattern: re.Pattern[str] | str, *, error: str | None = None) -> None:
        text = pattern.pattern if isinstance(pattern, re.Pattern) else pattern
        # A group only where an alternation needs one, so the document stays readable.
        self.regex = re.compile(f"^(?:{text})$" if "|" in text else f"^{text}$")
        self.error = error

    def __call__(self, value: str) -> str:
        # fullmatch, not match: `$` alone would let a trailing newline through. The message
        # never quotes the value: it may be an ID number typed in the wrong place.
        if not isinstance(value, str) or self.regex.fullmatch(value) is None:
            raise ValidationError(self.error or self.default_message)
        return value
