"""Strict parsing of the signed event envelope (SPEC §4.1).

Strict means: unknown fields, duplicate keys, floats, booleans or strings where integers belong
are refused, each with a field error, so a platform learns exactly what to fix.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from ledger.contract.categories import Category, EventType
from ledger.contract.personal_data import holds_id_number

BODY_SIZE_MAX_BYTES = 8 * 1024
POINTS_MIN = 1
POINTS_MAX = 100_000
# Entries are hashed as RFC 8785 JSON, which holds integers exactly only up to 2^53 - 1.
SEQ_MAX = 2**53 - 1
MEMO_LENGTH_MAX = 200
SOURCE_REF_LENGTH_MAX = 128
OCCURRED_AT_MIN = datetime(1970, 1, 1, tzinfo=UTC)

EVENT_ID_PATTERN = re.compile(r"[A-Za-z0-9._:-]{1,64}")
PLATFORM_CODE_PATTERN = re.compile(r"[a-z][a-z0-9_]{1,31}")
RESIDENT_PATTERN = re.compile(r"[0-9a-f]{64}")
RFC3339_PATTERN = re.compile(
    r"(\d{4}-\d{2}-\d{2})[Tt](\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})"
)

REQUIRED_FIELDS = ("event_id", "platform", "seq", "type", "resident", "category", "points",
                   "occurred_at")
OPTIONAL_FIELDS = ("revokes", "memo", "source_ref")
KNOWN_FIELDS = frozenset(REQUIRED_FIELDS + OPTIONAL_FIELDS)


class MalformedJson(ValueError):
    """The body is not UTF-8 JSON at all."""


class SchemaInvalid(ValueError):
    """The body is JSON but breaks the envelope rules; `errors` maps each field to its problem."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{field}: {message}" for field, message in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class Envelope:
    event_id: str
    platform: str
    seq: int
    type: EventType
    resident: str
    category: Category
    points: int
    occurred_at: datetime
    revokes: str | None = None
    memo: str | None = None
    source_ref: str | None = None


class _DuplicateKeyError(ValueError):
    """A key seen twice in one JSON object: reported as a schema error, not a parse error."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _pairs_without_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKeyError(key)
        result[key] = value
    return result


def _refuse_constant(name: str) -> Any:
    raise MalformedJson(f"{name} is not valid JSON")


# One decoder for every body: `json.loads` with hooks builds a new one per call.
_DECODER = json.JSONDecoder(object_pairs_hook=_pairs_without_duplicates,
                            parse_constant=_refuse_constant)


def load_json_object(body: bytes) -> dict[str, Any]:
    """Decode strict UTF-8 JSON; a duplicate key or a non-object body is a schema error."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedJson("the body is not valid UTF-8") from None
    try:
        document = _DECODER.decode(text)
    except _DuplicateKeyError as error:
        raise SchemaInvalid({error.key: "duplicate key"}) from None
    except json.JSONDecodeError as error:
        detail = f"the body is not valid JSON: {error.msg} at position {error.pos}"
        raise MalformedJson(detail) from None
    except MalformedJson:
        raise
    except ValueError:
        # Python refuses to convert integers of more than 4300 digits (CVE-2020-10735).
        raise MalformedJson("the body holds a number with too many digits") from None
    except RecursionError:
        raise MalformedJson("the body nests arrays or objects too deeply") from None
    if not isinstance(document, dict):
        raise SchemaInvalid({"_schema": "the body must be a JSON object"})
    return document


def parse_envelope(body: bytes) -> Envelope:
    """Parse and validate an envelope; raises MalformedJson or SchemaInvalid."""
    document = load_json_object(body)
    errors: dict[str, str] = {}
    for field in sorted(document.keys() - KNOWN_FIELDS):
        errors[field] = "unknown field"
    for field in REQUIRED_FIELDS:
        if field not in document:
            errors[field] = "missing required field"

    def text(field: str, pattern: re.Pattern[str] | None = None, length_max: int = 0,
             description: str = "") -> str | None:
        value = document.get(field)
        if value is None:
            if field in document:
                errors[field] = "must not be null"
            return None
        if not isinstance(value, str):
            errors[field] = "must be a string"
            return None
        if pattern is not None and not pattern.fullmatch(value):
            errors[field] = description
            return None
        if length_max and len(value) > length_max:
            errors[field] = f"must be at most {length_max} characters"
            return None
        return value

    def integer(field: str, minimum: int, maximum: int) -> int | None:
        value = document.get(field)
        if field not in document:
            return None
        # bool is a subclass of int in Python: refuse it explicitly.
        if not isinstance(value, int) or isinstance(value, bool):
            errors[field] = "must be an integer"
            return None
        if not minimum <= value <= maximum:
            errors[field] = f"must be between {minimum} and {maximum}"
            return None
        return value

    event_id = text("event_id", EVENT_ID_PATTERN, description="must be 1-64 of [A-Za-z0-9._:-]")
    platform = text("platform", PLATFORM_CODE_PATTERN,
                    description="must be a platform code of [a-z0-9_]")
    seq = integer("seq", 1, SEQ_MAX)
    event_type = _choice(document, "type", EventType, errors)
    resident = text("resident", RESIDENT_PATTERN, description="must be 64 lowercase hex digits")
    category = _choice(document, "category", Category, errors)
    points = integer("points", POINTS_MIN, POINTS_MAX)
    occurred_at = _timestamp(document, "occurred_at", errors)
    revokes = text("revokes", EVENT_ID_PATTERN, description="must be 1-64 of [A-Za-z0-9._:-]")
    memo = text("memo", length_max=MEMO_LENGTH_MAX)
    source_ref = text("source_ref", length_max=SOURCE_REF_LENGTH_MAX)
    # An entry is never erased: a resident ID number written here would stay forever (PIPL).
    for field, value in (("memo", memo), ("source_ref", source_ref)):
        if value is not None and holds_id_number(value):
            errors[field] = "must not hold anything shaped like a resident ID number"

    if event_type is EventType.REVOKED and "revokes" not in document:
        errors["revokes"] = "required for points.revoked"
    if event_type is not None and event_type is not EventType.REVOKED and "revokes" in document:
        errors["revokes"] = "only allowed for points.revoked"
    if revokes is not None and revokes == event_id:
        errors["revokes"] = "an event cannot revoke itself"

    if errors:
        raise SchemaInvalid(errors)
    assert event_id and platform and seq and event_type and resident and category and points
    assert occurred_at is not None
    return Envelope(event_id=event_id, platform=platform, seq=seq, type=event_type,
                    resident=resident, category=category, points=points,
                    occurred_at=occurred_at, revokes=revokes, memo=memo, source_ref=source_ref)


_Choice = TypeVar("_Choice", EventType, Category)


def _choice(document: dict[str, Any], field: str, choices: type[_Choice],
            errors: dict[str, str]) -> _Choice | None:
    value = document.get(field)
    if field not in document:
        return None
    if not isinstance(value, str):
        errors[field] = "must be a string"
        return None
    try:
        return choices(value)
    except ValueError:
        errors[field] = "must be one of " + ", ".join(member.value for member in choices)
        return None


def parse_rfc3339(value: str) -> datetime | None:
    """An RFC 3339 timestamp with an explicit offset, or None; fractions beyond µs are cut."""
    match = RFC3339_PATTERN.fullmatch(value)
    if match is None:
        return None
    date, time, fraction, offset = match.groups()
    fraction_part = f".{fraction[:6].ljust(6, '0')}" if fraction else ""
    offset = "+00:00" if offset in ("Z", "z") else offset
    try:
        return datetime.fromisoformat(f"{date}T{time}{fraction_part}{offset}")
    except ValueError:
        return None


def _timestamp(document: dict[str, Any], field: str, errors: dict[str, str]) -> datetime | None:
    value = document.get(field)
    if field not in document:
        return None
    if not isinstance(value, str):
        errors[field] = "must be a string"
        return None
    parsed = parse_rfc3339(value)
    if parsed is None:
        errors[field] = "must be an RFC 3339 timestamp with an offset"
    elif parsed < OCCURRED_AT_MIN:
        # Earlier moments cannot all be written as RFC 3339 in UTC (year 1 at +08:00 is year 0).
        errors[field] = "must not be before 1970-01-01T00:00:00Z"
        return None
    return parsed
