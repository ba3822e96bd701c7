"""Request and response documents of the rules, credit-terms and audit routes (SPEC §8)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from ledger.api.fields import BoundedInteger, UtcAwareDateTime
from ledger.api.pagination import PageQuerySchema
from ledger.api.schemas import resident_field
from ledger.service.rules.lifecycle import COMMENT_LENGTH_MAX
from ledger.service.rules.versions import Status

_COMMENT = fields.String(required=True, validate=validate.Length(1, COMMENT_LENGTH_MAX),
                         metadata={"description": "why: kept in the audit trail"})


class DraftSchema(Schema):
    document = fields.Dict(required=True, metadata={
        "description": "the rule-set document of SPEC §8, validated strictly"})
    comment = _COMMENT
    replaces = BoundedInteger(minimum=1, metadata={
        "description": "a draft of yours that this version replaces"})


class StepSchema(Schema):
    comment = _COMMENT


class ApprovalSchema(Schema):
    comment = _COMMENT
    effective_from = UtcAwareDateTime(metadata={
        "description": "when the version takes effect (default now; never in the past)"})


class DiffQuerySchema(Schema):
    against = BoundedInteger(minimum=1, required=True)


class VersionSummarySchema(Schema):
    version = fields.Integer(required=True)
    name = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf([s.value for s in Status]))
    active = fields.Boolean(required=True, metadata={"description": "in force now"})
    author = fields.String(required=True)
    created_at = fields.String(required=True, metadata={"format": "date-time"})
    sha256 = fields.String(required=True, metadata={
        "description": "SHA-256 of the document's RFC 8785 form"})
    replaces = fields.Integer(allow_none=True)
    superseded_by = fields.Integer(allow_none=True)
    effective_from = fields.String(allow_none=True, metadata={"format": "date-time"})


class HistoryStepSchema(Schema):
    action = fields.String(required=True, validate=validate.OneOf(
        ["drafted", "submitted", "approved", "rejected"]))
    actor = fields.String(required=True)
    at = fields.String(required=True, metadata={"format": "date-time"})
    comment = fields.String(required=True)
    effective_from = fields.String(metadata={"format": "date-time"})
    simulation_id = fields.Integer()


class VersionSchema(VersionSummarySchema):
    comment = fields.String(required=True)
    document = fields.Dict(required=True)
    history = fields.List(fields.Nested(HistoryStepSchema), required=True)


class VersionPageSchema(Schema):
    items = fields.List(fields.Nested(VersionSummarySchema), required=True)
    next = fields.Integer(required=True, allow_none=True)


class ChangeSchema(Schema):
    path = fields.String(required=True, metadata={"example": "tiers[1].limit_uplift_cny"})
    before = fields.Raw(allow_none=True, metadata={"description": "null: absent"})
    after = fields.Raw(allow_none=True, metadata={"description": "null: absent"})
    line = fields.String(required=True,
                         metadata={"example": "tiers[1].limit_uplift_cny: 50000 → 60000"})


class DiffSchema(Schema):
    version = fields.Integer(required=True)
    against = fields.Integer(required=True)
    changes = fields.List(fields.Nested(ChangeSchema), required=True)


class GroupFiguresSchema(Schema):
    residents = fields.Integer(required=True)
    gaining = fields.Integer(required=True)
    losing = fields.Integer(required=True)
    exposure_before_cny = fields.Integer(required=True)
    exposure_after_cny = fields.Integer(required=True)


class BucketSchema(Schema):
    from_cny = fields.Integer(required=True)
    to_cny = fields.Integer(required=True, metadata={
        "description": "exclusive; equal to from_cny (0) for residents whose uplift is unchanged"})
    residents = fields.Integer(required=True)


class SimulationSchema(GroupFiguresSchema):
    id = fields.Integer(required=True)
    status = fields.String(required=True, validate=validate.OneOf(["done"]))
    version = fields.Integer(required=True)
    baseline_version = fields.Integer(required=True, allow_none=True, metadata={
        "description": "the version active when it ran; null: none (all terms were 0)"})
    requested_by = fields.String(required=True)
    created_at = fields.String(required=True, metadata={"format": "date-time"})
    as_of = fields.String(required=True, metadata={"format": "date-time"})
    ledger_seq = fields.Integer(required=True)
    unchanged = fields.Integer(required=True)
    by_platform = fields.Dict(keys=fields.String(), values=fields.Nested(GroupFiguresSchema),
                              required=True, metadata={
                                  "description": "by home platform: where the resident "
                                                 "earned the most points in the window"})
    histogram = fields.List(fields.Nested(BucketSchema), required=True, metadata={
        "description": "residents by change of limit uplift"})


class SimulationListSchema(Schema):
    items = fields.List(fields.Nested(SimulationSchema), required=True)


class CreditTermsQuerySchema(Schema):
    as_of = UtcAwareDateTime(metadata={
        "description": "end of the window (default now); only entries that occurred by then "
                       "count"})


class CategoryLineSchema(Schema):
    platform = fields.String(required=True)
    category = fields.String(required=True)
    points = fields.Integer(required=True, metadata={"description": "net awarded in the window"})
    capped_points = fields.Integer(required=True, metadata={
        "description": "the sum over months of min(net awarded, monthly_cap)"})
    monthly_cap = fields.Integer(allow_none=True)
    category_weight = fields.String(required=True)
    platform_weight = fields.String(required=True)
    contribution = fields.String(required=True, metadata={"description": "exact decimal"})


class DeductionLineSchema(Schema):
    platform = fields.String(required=True)
    points = fields.Integer(required=True)
    deduction_weight = fields.String(required=True)
    platform_weight = fields.String(required=True)
    contribution = fields.String(required=True, metadata={"description": "negative"})


class ExplanationSchema(Schema):
    window = fields.Dict(required=True, metadata={
        "description": "months, from and to (YYYY-MM, Asia/Shanghai)"})
    categories = fields.List(fields.Nested(CategoryLineSchema), required=True)
    deductions = fields.List(fields.Nested(DeductionLineSchema), required=True)
    tier = fields.Dict(required=True, metadata={
        "description": "index, when (its conditions), limit_uplift_cny, rate_discount_bp"})
    caps = fields.Dict(required=True, metadata={
        "description": "limit_uplift_cny_max, rate_discount_bp_max, applied"})


class TermsAnswerSchema(Schema):
    resident = resident_field(required=True)
    as_of = fields.String(required=True, metadata={"format": "date-time"})
    ledger_seq = fields.Integer(required=True, metadata={
        "description": "the ledger head the answer read"})
    ruleset_version = fields.Integer(required=True)
    ruleset_sha256 = fields.String(required=True)
    score = fields.Integer(required=True)
    active_months = fields.Integer(required=True)
    deductions = fields.Integer(required=True)
    tier = fields.Integer(required=True, metadata={"description": "0-based index"})
    limit_uplift_cny = fields.Integer(required=True)
    rate_discount_bp = fields.Integer(required=True)
    explanation = fields.Nested(ExplanationSchema, required=True)


class CreditTermsSchema(TermsAnswerSchema):
    decision_id = fields.String(required=True, metadata={
        "description": "GET /decisions/{decision_id} shows this answer again"})


class DecisionSchema(CreditTermsSchema):
    asked_by = fields.String(required=True)
    asked_at = fields.String(required=True, metadata={"format": "date-time"})
    agrees = fields.Boolean(required=True, metadata={
        "description": "recomputing it now, from the entries up to ledger_seq, gives the same "
                       "answer"})
    recomputed = fields.Nested(TermsAnswerSchema, metadata={
        "description": "only when it does not agree: today's answer"})


class AuditQuerySchema(PageQuerySchema):
    subject = fields.String(validate=validate.Length(1, 128))


class AuditEventSchema(Schema):
    seq = fields.Integer(required=True)
    at = fields.String(required=True, metadata={"format": "date-time"})
    actor = fields.String(required=True)
    action = fields.String(required=True)
    subject = fields.String(required=True)
    comment = fields.String(required=True)
    document_sha256 = fields.String()
    details = fields.Dict()
    entry_hash = fields.String(required=True)


class AuditPageSchema(Schema):
    items = fields.List(fields.Nested(AuditEventSchema), required=True)
    next = fields.Integer(required=True, allow_none=True)
