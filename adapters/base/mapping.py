"""Field checks every adapter's mapping shares; each raises RecordRefused with a clear reason."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from adapters.base.records import QuarantineReason, RecordRefused
from adapters.base.redaction import quoted
from ledger.contract.categories import Category
from ledger.contract.envelope import POINTS_MAX, POINTS_MIN
from ledger.contract.resident_id import InvalidIdNumber, normalize_id_number

SHANGHAI = ZoneInfo("Asia/Shanghai")


class CategoryTable:
    """Native category codes and labels → the canonical taxonomy (SPEC §4.2).

    An unknown code is refused, never mapped to `other`: a wrong category would change someone's
    credit terms without anyone noticing.
    """

    def __init__(self, entries: Mapping[str, Category]) -> None:
        self._entries = {code.strip(): category for code, category in entries.items()}

    def __call__(self, code: object) -> Category:
        text = str(code).strip() if isinstance(code, str | int) else ""
        category = self._entries.get(text)
        if category is None:
            raise RecordRefused(QuarantineReason.UNKNOWN_CATEGORY,
                                f"native category {quoted(text)} has no mapping")
        return category

    @property
    def codes(self) -> dict[str, Category]:
        return dict(self._entries)


def required(fields: Mapping[str, Any], name: str) -> Any:
    value = fields.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        raise RecordRefused(QuarantineReason.BAD_RECORD, f"field {name!r} is missing")
    return value


def text(fields: Mapping[str, Any], name: str) -> str:
    value = required(fields, name)
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise RecordRefused(QuarantineReason.BAD_RECORD, f"field {name!r} is not text")
    return str(value).strip()


def id_number(value: object) -> str:
    """The canonical ID number; the refusal's detail never repeats it."""
    if not isinstance(value, str):
        raise RecordRefused(QuarantineReason.BAD_ID_NUMBER, "the ID number is not text")
    try:
        return normalize_id_number(value)
    except InvalidIdNumber as error:
        raise RecordRefused(QuarantineReason.BAD_ID_NUMBER, str(error)) from None


def signed_points(value: object) -> int:
    """An integer number of points, possibly negative (a deduction), never zero.

    Text of digits is accepted (CSV cells are text); floats, booleans and `12.5` are not.
    """
    if isinstance(value, bool):
        raise RecordRefused(QuarantineReason.BAD_POINTS, "points must be a whole number")
    if isinstance(value, str):
        candidate = value.strip()
        digits = candidate[1:] if candidate[:1] in "+-" else candidate
        if not digits.isascii() or not digits.isdigit():
            raise RecordRefused(QuarantineReason.BAD_POINTS,
                                f"points {quoted(candidate)} is not a whole number")
        value = int(candidate)
    if not isinstance(value, int):
        raise RecordRefused(QuarantineReason.BAD_POINTS, "points must be a whole number")
    if not POINTS_MIN <= abs(value) <= POINTS_MAX:
        raise RecordRefused(QuarantineReason.BAD_POINTS,
                            f"points {value} is outside ±{POINTS_MIN}..{POINTS_MAX}")
    return value


def magnitude(value: object) -> int:
    points = signed_points(value)
    if points < 0:
        raise RecordRefused(QuarantineReason.BAD_POINTS, f"points {points} must be positive")
    return points


def shanghai_local_time(value: object, pattern: str) -> datetime:
    """Local wall-clock text (Asia/Shanghai) in `pattern` → an aware datetime."""
    if not isinstance(value, str):
        raise RecordRefused(QuarantineReason.BAD_DATE, "the time is not text")
    try:
        local = datetime.strptime(value.strip(), pattern)
    except ValueError:
        raise RecordRefused(QuarantineReason.BAD_DATE,
                            f"time {quoted(value)} does not match {pattern}") from None
    return local.replace(tzinfo=SHANGHAI)


def not_in_future(moment: datetime, now: datetime) -> datetime:
    """A record dated after it was received is refused: a platform's clock cannot run ahead."""
    if moment > now:
        raise RecordRefused(QuarantineReason.BAD_DATE,
                            f"time {moment.isoformat()} is in the future")
    return moment
