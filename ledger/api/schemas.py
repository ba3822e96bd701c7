"""Request and response documents of the HTTP API (marshmallow, published as OpenAPI 3.1)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from marshmallow import Schema, fields, validate

from ledger.api.fields import FullMatch
from ledger.api.pagination import PageQuerySchema
from ledger.contract.categories import Category, EventType
from ledger.contract.envelope import (
    EVENT_ID_PATTERN,
    MEMO_LENGTH_MAX,
    PLATFORM_CODE_PATTERN,
    POINTS_MAX,
    POINTS_MIN,
    RESIDENT_PATTERN,
    SEQ_MAX,
    SOURCE_REF_LENGTH_MAX,
)
from ledger.domain.entry import rfc3339_utc
from ledger.domain.outcomes import Reason

RESIDENT_DESCRIPTION = "resident pseudonym: 64 lowercase hex digits"
# The shape only; the check character and the birth date are the service's to judge.
ID_NUMBER_PATTERN = r"[0-9]{17}[0-9Xx]"


def resident_field(description: str = RESIDENT_DESCRIPTION, **options: Any) -> fields.String:
    """A resident pseudonym, with its pattern in the document."""
    return fields.String(validate=FullMatch(RESIDENT_PATTERN),
                         metadata={"description": description}, **options)


def path_parameter(name: str, pattern: str, description: str) -> dict[str, Any]:
    """The OpenAPI description of a string path parameter of this shape (the view checks it)."""
    return {"in": "path", "name": name, "required": True, "description": description,
            "schema": {"type": "string", "pattern": FullMatch(pattern).regex.pattern}}


RESIDENT_PATH_PARAMETER = path_parameter("resident", RESIDENT_PATTERN.pattern,
                                         RESIDENT_DESCRIPTION)


class UtcDateTime(fields.DateTime):
    """RFC 3339 in UTC with a `Z`, written the way the hash chain writes it."""

    def _serialize(self, value: dt.datetime | None, attr: Any, obj: Any,
                   **kwargs: Any) -> str | None:
        return None if value is None else rfc3339_utc(value)


def _field_errors(description: str) -> fields.Dict:
    return fields.Dict(keys=fields.String(), values=fields.String(),
                       metadata={"description": description})


class ProblemSchema(Schema):
    """RFC 9457 problem details, served as application/problem+json."""

    type = fields.String(required=True, metadata={"format": "uri"})
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String(required=True)
    code = fields.String(required=True, metadata={
        "description": "stable machine-readable code; for a refused event, its reason"})
    errors = _field_errors("for validation: the problem of each field")
    instance = fields.String(metadata={"description": "for an internal error: its incident"})


class EventEnvelopeSchema(Schema):
    """The signed event (SPEC §4.1); the server parses the exact bytes itself, strictly."""

    event_id = fields.String(required=True, validate=FullMatch(EVENT_ID_PATTERN))
    platform = fields.String(required=True, validate=FullMatch(PLATFORM_CODE_PATTERN))
    seq = fields.Integer(required=True, validate=validate.Range(1, SEQ_MAX))
    type = fields.String(required=True, validate=validate.OneOf([t.value for t in EventType]))
    resident = resident_field(required=True)
    category = fields.String(required=True,
                             validate=validate.OneOf([c.value for c in Category]))
    points = fields.Integer(required=True, validate=validate.Range(POINTS_MIN, POINTS_MAX))
    occurred_at = fields.String(required=True, metadata={"format": "date-time"})
    revokes = fields.String(validate=FullMatch(EVENT_ID_PATTERN),
                            metadata={"description": "only and always for points.revoked"})
    memo = fields.String(validate=validate.Length(max=MEMO_LENGTH_MAX))
    source_ref = fields.String(validate=validate.Length(max=SOURCE_REF_LENGTH_MAX))


class EventAcceptedSchema(Schema):
    outcome = fields.String(required=True,
                            validate=validate.OneOf(["recorded", "duplicate", "queued"]))
    event_id = fields.String(required=True)
    seq = fields.Integer(metadata={"description": "ledger seq (recorded and duplicate)"})
    entry_hash = fields.String(metadata={"description": "entry hash (recorded and duplicate)"})


class GapSchema(Schema):
    first = fields.Integer(required=True)
    last = fields.Integer(required=True)


class PlatformSchema(Schema):
    code = fields.String(required=True)
    name = fields.String(required=True)
    township = fields.String(required=True)
    last_seq = fields.Integer(required=True, metadata={
        "description": "the highest platform seq recorded"})
    gaps = fields.List(fields.Nested(GapSchema), required=True, metadata={
        "description": "runs of platform seq below last_seq not recorded yet"})


class PlatformListSchema(Schema):
    items = fields.List(fields.Nested(PlatformSchema), required=True)
    next = fields.Integer(required=True, allow_none=True)


class EventStatusSchema(Schema):
    outcome = fields.String(required=True, validate=validate.OneOf(["recorded", "rejected"]),
                            metadata={"description": "named as POST /events names it"})
    seq = fields.Integer()
    entry_hash = fields.String()
    recorded_at = UtcDateTime()
    reason = fields.String(validate=validate.OneOf([reason.value for reason in Reason]))
    detail = fields.String()
    errors = _field_errors("for schema_invalid: the problem of each field")
    received_at = UtcDateTime()
    rejection_id = fields.Integer()


class ResidentLookupSchema(Schema):
    id_number = fields.String(required=True, validate=FullMatch(ID_NUMBER_PATTERN), metadata={
        "description": "18-character resident ID number; never stored nor logged"})


class ResidentSchema(Schema):
    resident = resident_field(required=True)


class BalanceSchema(Schema):
    platform = fields.String(required=True)
    spendable = fields.Integer(required=True)
    earned = fields.Integer(required=True)
    deducted = fields.Integer(required=True)
    revoked = fields.Integer(required=True)
    redeemed = fields.Integer(required=True)


class ResidentBalancesSchema(Schema):
    resident = resident_field(required=True)
    balances = fields.List(fields.Nested(BalanceSchema), required=True)


class EntrySchema(Schema):
    """A ledger entry; fields without a value are left out (SPEC §6: they are not hashed)."""

    seq = fields.Integer(required=True)
    kind = fields.String(required=True)
    platform = fields.String(required=True)
    event_id = fields.String()
    platform_seq = fields.Integer()
    resident = resident_field(required=True)
    category = fields.String()
    points = fields.Integer(required=True, metadata={"description": "signed delta"})
    occurred_at = fields.String(required=True, metadata={"format": "date-time"})
    recorded_at = fields.String(required=True, metadata={"format": "date-time"})
    revokes = fields.String()
    key_id = fields.String()
    body = fields.String(metadata={"description": "the exact signed body"})
    webhook_timestamp = fields.Integer()
    webhook_signature = fields.String()
    redemption_id = fields.String(metadata={
        "description": "for the ledger's own entries: the redemption at a branch counter"})
    branch = fields.String(metadata={"description": "for the ledger's own entries: the branch"})
    entry_hash = fields.String(required=True)


class EntryPageSchema(Schema):
    items = fields.List(fields.Nested(EntrySchema), required=True)
    next = fields.Integer(required=True, allow_none=True)


class LedgerHeadSchema(Schema):
    seq = fields.Integer(required=True)
    entry_hash = fields.String(required=True)
    count = fields.Integer(required=True)


class RejectionQuerySchema(PageQuerySchema):
    reason = fields.String(validate=validate.OneOf([reason.value for reason in Reason]))


class RejectionSchema(Schema):
    id = fields.Integer(required=True)
    received_at = UtcDateTime(required=True)
    channel = fields.String(required=True)
    reason = fields.String(required=True)
    detail = fields.String(required=True)
    errors = _field_errors("for schema_invalid: the problem of each field")
    platform = fields.String(allow_none=True)
    event_id = fields.String(allow_none=True)
    body_base64 = fields.String(required=True, metadata={
        "description": "the body as received (its first 64 KiB), every run shaped like a "
                       "resident ID number masked"})
    body_size = fields.Integer(required=True)
    body_sha256 = fields.String(required=True, allow_none=True, metadata={
        "description": "SHA-256 (hex) of the whole body as received, before masking; null for "
                       "rejections kept before masking began"})
    headers = fields.Dict(keys=fields.String(), values=fields.String(), required=True)


class RejectionPageSchema(Schema):
    items = fields.List(fields.Nested(RejectionSchema), required=True)
    next = fields.Integer(required=True, allow_none=True)


class HealthSchema(Schema):
    status = fields.String(required=True)


class ReadySchema(Schema):
    status = fields.String(required=True)
    checks = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
