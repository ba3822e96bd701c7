"""SPEC §4.1: the envelope is parsed strictly, and every problem is a field error."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from ledger.contract.categories import Category, EventType
from ledger.contract.envelope import (
    MalformedJson,
    SchemaInvalid,
    parse_envelope,
    parse_rfc3339,
)

RESIDENT = "0123456789abcdef" * 4
SHANGHAI_OFFSET = timezone(timedelta(hours=8))


def envelope(**overrides: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "event_id": "ljy:2026.11-0001_a",
        "platform": "lijiayuan",
        "seq": 1,
        "type": "points.awarded",
        "resident": RESIDENT,
        "category": "garbage_sorting",
        "points": 10,
        "occurred_at": "2026-11-01T09:30:00+08:00",
    }
    document.update(overrides)
    return {name: value for name, value in document.items() if value is not ...}


def body(document: dict[str, Any]) -> bytes:
    return json.dumps(document, ensure_ascii=False).encode("utf-8")


def errors_of(document: dict[str, Any] | bytes) -> dict[str, str]:
    raw = document if isinstance(document, bytes) else body(document)
    with pytest.raises(SchemaInvalid) as refused:
        parse_envelope(raw)
    return refused.value.errors


def test_a_valid_envelope_parses_into_typed_fields() -> None:
    parsed = parse_envelope(body(envelope(memo="每周 ✓", source_ref="JFJL-1")))
    assert parsed.event_id == "ljy:2026.11-0001_a"
    assert parsed.seq == 1 and parsed.points == 10
    assert parsed.type is EventType.AWARDED and parsed.category is Category.GARBAGE_SORTING
    assert parsed.occurred_at == datetime(2026, 11, 1, 1, 30, tzinfo=UTC)
    assert parsed.occurred_at.utcoffset() == timedelta(hours=8)
    assert (parsed.memo, parsed.source_ref, parsed.revokes) == ("每周 ✓", "JFJL-1", None)


def test_a_revocation_names_what_it_revokes() -> None:
    parsed = parse_envelope(body(envelope(type="points.revoked", revokes="ljy-0000")))
    assert parsed.type is EventType.REVOKED and parsed.revokes == "ljy-0000"


@pytest.mark.parametrize("field", ["event_id", "platform", "seq", "type", "resident", "category",
                                   "points", "occurred_at"])
def test_every_required_field_is_required(field: str) -> None:
    assert errors_of(envelope(**{field: ...})) == {field: "missing required field"}


@pytest.mark.parametrize(("field", "value", "message"), [
    ("seq", 1.0, "must be an integer"),
    ("seq", "1", "must be an integer"),
    ("seq", True, "must be an integer"),
    ("seq", None, "must be an integer"),
    ("seq", [1], "must be an integer"),
    ("seq", 0, "must be between 1 and 9007199254740991"),
    ("seq", -1, "must be between 1 and 9007199254740991"),
    ("seq", 2**53, "must be between 1 and 9007199254740991"),
    ("points", 10.0, "must be an integer"),
    ("points", False, "must be an integer"),
    ("points", "10", "must be an integer"),
    ("points", 0, "must be between 1 and 100000"),
    ("points", -10, "must be between 1 and 100000"),
    ("points", 100_001, "must be between 1 and 100000"),
    ("event_id", "", "must be 1-64 of [A-Za-z0-9._:-]"),
    ("event_id", "x" * 65, "must be 1-64 of [A-Za-z0-9._:-]"),
    ("event_id", "two words", "must be 1-64 of [A-Za-z0-9._:-]"),
    ("event_id", "line\n", "must be 1-64 of [A-Za-z0-9._:-]"),
    ("event_id", "事件1", "must be 1-64 of [A-Za-z0-9._:-]"),
    ("event_id", 17, "must be a string"),
    ("platform", "LiJiaYuan", "must be a platform code of [a-z0-9_]"),
    ("platform", None, "must not be null"),
    ("resident", "0123456789ABCDEF" * 4, "must be 64 lowercase hex digits"),
    ("resident", RESIDENT[:-1], "must be 64 lowercase hex digits"),
    ("resident", RESIDENT + "0", "must be 64 lowercase hex digits"),
    ("type", "points.redeemed",
     "must be one of points.awarded, points.deducted, points.revoked"),
    ("type", 1, "must be a string"),
    ("category", "Garbage_Sorting", "must be one of garbage_sorting, environment_hygiene, "
     "volunteering, safety_patrol, safety_education, knowledge_quiz, civic_participation, "
     "mutual_aid, honors, other"),
    ("occurred_at", "2026-11-01T09:30:00", "must be an RFC 3339 timestamp with an offset"),
    ("occurred_at", 1793500200, "must be a string"),
    ("occurred_at", "1969-12-31T23:59:59Z", "must not be before 1970-01-01T00:00:00Z"),
    ("occurred_at", "1970-01-01T07:59:59+08:00", "must not be before 1970-01-01T00:00:00Z"),
    ("occurred_at", "0001-01-01T00:00:00+14:00", "must not be before 1970-01-01T00:00:00Z"),
    ("memo", "m" * 201, "must be at most 200 characters"),
    ("memo", 5, "must be a string"),
    ("source_ref", "r" * 129, "must be at most 128 characters"),
])
def test_a_wrong_value_is_a_field_error(field: str, value: Any, message: str) -> None:
    assert errors_of(envelope(**{field: value})) == {field: message}


@pytest.mark.parametrize(("field", "value"), [
    ("seq", 2**53 - 1), ("points", 1), ("points", 100_000), ("event_id", "x" * 64),
    ("event_id", "A-z_0.9:"), ("memo", "m" * 200), ("source_ref", "r" * 128),
    ("category", "other"), ("type", "points.deducted"),
])
def test_values_at_the_limits_are_accepted(field: str, value: Any) -> None:
    assert getattr(parse_envelope(body(envelope(**{field: value}))), field) == value


def test_occurred_at_may_be_the_unix_epoch() -> None:
    parsed = parse_envelope(body(envelope(occurred_at="1970-01-01T08:00:00+08:00")))
    assert parsed.occurred_at == datetime(1970, 1, 1, tzinfo=UTC)


def test_unknown_fields_are_refused_by_name() -> None:
    assert errors_of(envelope(bonus=1, Points=3)) == {"Points": "unknown field",
                                                      "bonus": "unknown field"}


def test_every_problem_is_reported_at_once() -> None:
    errors = errors_of(envelope(seq=1.5, points="x", resident=..., colour="red"))
    assert errors == {"seq": "must be an integer", "points": "must be an integer",
                      "resident": "missing required field", "colour": "unknown field"}


@pytest.mark.parametrize("raw", [
    b'{"seq": 1, "seq": 1}',
    b'{"memo": "a", "memo": "a"}',
    b'{"memo": {"x": 1, "x": 2}}',
])
def test_a_duplicate_key_is_refused_even_with_the_same_value(raw: bytes) -> None:
    errors = errors_of(raw)
    assert list(errors.values()) == ["duplicate key"]


def test_revokes_belongs_to_revocations_only() -> None:
    assert errors_of(envelope(revokes="ljy-0")) == {"revokes": "only allowed for points.revoked"}
    assert errors_of(envelope(type="points.deducted", revokes="ljy-0")) == {
        "revokes": "only allowed for points.revoked"}
    assert errors_of(envelope(type="points.revoked")) == {
        "revokes": "required for points.revoked"}


def test_an_event_cannot_revoke_itself() -> None:
    assert errors_of(envelope(type="points.revoked", revokes="ljy:2026.11-0001_a")) == {
        "revokes": "an event cannot revoke itself"}


@pytest.mark.parametrize("raw", [b"[]", b'"event"', b"42", b"null"])
def test_a_body_that_is_not_an_object_is_schema_invalid(raw: bytes) -> None:
    assert errors_of(raw) == {"_schema": "the body must be a JSON object"}


@pytest.mark.parametrize("raw", [
    b"", b"{", b"{'seq': 1}", b'{"points": NaN}', b'{"points": -Infinity}', b"\xff{}",
    b'{"memo": "\xed\xa0\x80"}', b'{"points": 1} {}', b'{"seq": ' + b"9" * 4301 + b"}",
    b"[" * 5000 + b"]" * 5000,
])
def test_what_is_not_utf8_json_is_malformed(raw: bytes) -> None:
    with pytest.raises(MalformedJson):
        parse_envelope(raw)


# --- RFC 3339 ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("2026-11-01T09:30:00+08:00", datetime(2026, 11, 1, 9, 30, tzinfo=SHANGHAI_OFFSET)),
    ("2026-11-01T01:30:00Z", datetime(2026, 11, 1, 1, 30, tzinfo=UTC)),
    ("2026-11-01t01:30:00z", datetime(2026, 11, 1, 1, 30, tzinfo=UTC)),
    ("2026-10-31T23:00:00-05:30", datetime(2026, 11, 1, 4, 30, tzinfo=UTC)),
    ("2026-11-01T01:30:00.5Z", datetime(2026, 11, 1, 1, 30, 0, 500_000, tzinfo=UTC)),
    ("2026-11-01T01:30:00.123456789Z", datetime(2026, 11, 1, 1, 30, 0, 123_456, tzinfo=UTC)),
    ("2024-02-29T00:00:00-00:00", datetime(2024, 2, 29, tzinfo=UTC)),
])
def test_rfc3339_timestamps_with_an_offset_parse(text: str, expected: datetime) -> None:
    parsed = parse_rfc3339(text)
    assert parsed == expected
    assert parsed is not None and parsed.tzinfo is not None


@pytest.mark.parametrize("text", [
    "2026-11-01T09:30:00",            # no offset: local time of nowhere
    "2026-11-01",                     # a date is not a moment
    "2026-11-01T09:30+08:00",         # seconds are required
    "2026-11-01T09:30:00+0800",       # the offset needs its colon
    "2026-11-01T09:30:00+08",
    "2026-11-01T09:30:00.Z",
    "2026-02-30T09:30:00Z",           # no such day
    "2025-02-29T09:30:00Z",
    "2026-11-01T24:00:00Z",
    "2026-13-01T09:30:00Z",
    "2026-11-01T09:30:00+24:00",
    "２０２６-11-01T09:30:00Z",       # full-width digits
    " 2026-11-01T09:30:00Z",
    "2026-11-01T09:30:00Z\n",
    "1793500200",
])
def test_anything_else_is_not_an_rfc3339_timestamp(text: str) -> None:
    assert parse_rfc3339(text) is None
