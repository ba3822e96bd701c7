"""Gifts, branch stock, redemptions at the counter and the day's reconciliation (SPEC §9)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from flask import Response, jsonify, request, url_for
from marshmallow import Schema, ValidationError, fields, validate

from ledger.api.access import any_role, current_principal, roles
from ledger.api.blueprint import Blueprint
from ledger.api.fields import FullMatch, StrictBoolean
from ledger.api.pagination import PageQuerySchema, PageRequest
from ledger.api.problems import ProblemError, invalid_input
from ledger.api.schemas import path_parameter, resident_field
from ledger.app_context import current_ledger
from ledger.service.counter import catalog, reconciliation, redemptions
from ledger.service.counter.catalog import (
    GIFT_NAME_LENGTH_MAX,
    POINTS_COST_MAX,
    REASON_LENGTH_MAX,
    SKU_PATTERN,
    STOCK_QUANTITY_MAX,
)
from ledger.service.counter.redemptions import QUANTITY_MAX, RedemptionRequest

blp = Blueprint("counter", __name__, description="Gifts and redemption at the counter")

IDEMPOTENCY_HEADER = "Idempotency-Key"
REDEMPTION_ID_PATTERN = re.compile(
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
SKU_RULE = "must be 1-32 of [A-Za-z0-9._-], starting with a letter or digit"
SKU_PATH_PARAMETER = path_parameter("sku", SKU_PATTERN.pattern, "the gift's SKU")
REDEMPTION_PATH_PARAMETER = path_parameter("redemption_id", REDEMPTION_ID_PATTERN.pattern,
                                           "the redemption's id (a UUID)")


def _sku_field(**options: Any) -> fields.String:
    return fields.String(validate=FullMatch(SKU_PATTERN, error=SKU_RULE), **options)


class GiftSchema(Schema):
    sku = _sku_field(required=True)
    name = fields.String(required=True, validate=validate.Length(1, GIFT_NAME_LENGTH_MAX))
    points_cost = fields.Integer(required=True, strict=True,
                                 validate=validate.Range(1, POINTS_COST_MAX))
    active = StrictBoolean(dump_only=True)


class GiftListSchema(Schema):
    items = fields.List(fields.Nested(GiftSchema), required=True)


class GiftUpdateSchema(Schema):
    active = StrictBoolean(required=True, metadata={
        "description": "false takes the gift off every counter; its past redemptions stay"})


class StockUpdateSchema(Schema):
    quantity = fields.Integer(required=True, strict=True,
                              validate=validate.Range(0, STOCK_QUANTITY_MAX),
                              metadata={"description": "the counted quantity now in stock"})
    reason = fields.String(required=True, validate=validate.Length(1, REASON_LENGTH_MAX))


class StockSchema(Schema):
    branch = fields.String(required=True)
    sku = _sku_field(required=True)
    name = fields.String(required=True)
    quantity = fields.Integer(required=True)
    points_cost = fields.Integer()
    active = fields.Boolean()


class StockListSchema(Schema):
    items = fields.List(fields.Nested(StockSchema), required=True)


class RedemptionRequestSchema(Schema):
    resident = resident_field("the pseudonym from /residents/lookup", required=True)
    platform = fields.String(required=True, validate=validate.Length(1, 32),
                             metadata={"description": "whose points are spent"})
    sku = _sku_field(required=True)
    quantity = fields.Integer(required=True, strict=True,
                              validate=validate.Range(1, QUANTITY_MAX))
    branch = fields.String(metadata={"description": "optional; must be your own branch"})


class ReversalSchema(Schema):
    supervisor = fields.String(required=True)
    reason = fields.String(required=True)
    at = fields.String(required=True, metadata={"format": "date-time"})
    ledger_seq = fields.Integer(required=True)
    balance_after = fields.Integer(required=True)


class RedemptionSchema(Schema):
    redemption_id = fields.String(required=True)
    receipt_no = fields.String(required=True, metadata={
        "description": "unique per branch and business day: BRANCH-YYYYMMDD-NNNN"})
    branch = fields.String(required=True)
    business_day = fields.String(required=True, metadata={"description": "Asia/Shanghai"})
    resident = resident_field(required=True)
    platform = fields.String(required=True)
    sku = _sku_field(required=True)
    quantity = fields.Integer(required=True)
    points = fields.Integer(required=True)
    balance_after = fields.Integer(required=True)
    teller = fields.String(required=True)
    at = fields.String(required=True, metadata={"format": "date-time"})
    ledger_seq = fields.Integer(required=True)
    reversal = fields.Nested(ReversalSchema, allow_none=True)


class ReversalRequestSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(1, REASON_LENGTH_MAX))


def _calendar_day(text: str) -> None:
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        raise ValidationError("Not a day of the calendar.") from None


class ReconciliationQuerySchema(Schema):
    date = fields.String(required=True,
                         validate=[FullMatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}"), _calendar_day],
                         metadata={"description": "the business day, YYYY-MM-DD",
                                   "format": "date"})


@blp.route("/gifts", methods=["POST"])
@roles("admin")
@blp.arguments(GiftSchema)
@blp.response(201, GiftSchema)
def add_gift(body: dict[str, Any]) -> dict[str, Any]:
    """Add a gift to the catalog"""
    ledger = current_ledger()
    with ledger.sessions.begin() as session:
        return catalog.add_gift(session, current_principal(), body["sku"], body["name"],
                                body["points_cost"], ledger.clock())


@blp.route("/gifts")
@any_role
@blp.response(200, GiftListSchema)
def list_gifts() -> dict[str, Any]:
    """The catalog"""
    with current_ledger().sessions() as session:
        return {"items": catalog.gifts(session)}


@blp.route("/gifts/<sku>", methods=["PATCH"], parameters=[SKU_PATH_PARAMETER])
@roles("admin")
@blp.arguments(GiftUpdateSchema)
@blp.response(200, GiftSchema)
def update_gift(body: dict[str, Any], sku: str) -> dict[str, Any]:
    """Take a gift off the counters, or put it back"""
    _check_sku(sku)
    ledger = current_ledger()
    with ledger.sessions.begin() as session:
        return catalog.set_gift_active(session, current_principal(), sku, body["active"],
                                       ledger.clock())


@blp.route("/branches/<branch>/stock/<sku>", methods=["PUT"], parameters=[SKU_PATH_PARAMETER])
@roles("admin", "supervisor")
@blp.arguments(StockUpdateSchema)
@blp.response(200, StockSchema)
def set_stock(body: dict[str, Any], branch: str, sku: str) -> dict[str, Any]:
    """Set a branch's stock of a gift to a counted quantity, with the reason (recorded)"""
    _check_sku(sku)
    ledger = current_ledger()
    with ledger.sessions.begin() as session:
        return catalog.set_stock(session, current_principal(), branch, sku, body["quantity"],
                                 body["reason"], ledger.clock())


@blp.route("/branches/<branch>/stock")
@roles("admin", "supervisor", "teller", "auditor")
@blp.response(200, StockListSchema)
def stock(branch: str) -> dict[str, Any]:
    """A branch's stock (tellers and supervisors: their own branch)"""
    with current_ledger().sessions() as session:
        return {"items": catalog.stock_of(session, current_principal(), branch)}


class StockChangeSchema(Schema):
    id = fields.Integer(required=True)
    sku = fields.String(required=True)
    delta = fields.Integer(required=True)
    quantity_after = fields.Integer(required=True)
    reason = fields.String(required=True)
    actor = fields.String(required=True)
    at = fields.String(required=True, metadata={"format": "date-time"})
    redemption_id = fields.String(allow_none=True)


class StockChangePageSchema(Schema):
    items = fields.List(fields.Nested(StockChangeSchema), required=True)
    next = fields.Integer(required=True, allow_none=True)


@blp.route("/branches/<branch>/stock-changes")
@roles("admin", "supervisor", "auditor")
@blp.arguments(PageQuerySchema, location="query")
@blp.response(200, StockChangePageSchema)
def stock_changes(query: dict[str, Any], branch: str) -> dict[str, Any]:
    """Every change of the branch's stock: who, by how much, why; `next` is the last id"""
    asked = PageRequest.of(query)
    with current_ledger().sessions() as session:
        items, following = catalog.stock_changes(session, current_principal(), branch,
                                                 asked.after, asked.limit)
    return {"items": items, "next": following}


@blp.route("/redemptions", methods=["POST"])
@roles("teller", "supervisor")
@blp.arguments(RedemptionRequestSchema)
@blp.response(201, RedemptionSchema)
@blp.doc(parameters=[{"in": "header", "name": IDEMPOTENCY_HEADER, "required": True,
                      "schema": {"type": "string", "maxLength": 128},
                      "description": "new for each redemption; the same key and body answer "
                                     "the first answer again"}])
def redeem(body: dict[str, Any]) -> Response:
    """Redeem a resident's points of one platform for gifts in stock at your branch"""
    ledger = current_ledger()
    asked = RedemptionRequest(body["resident"], body["platform"], body["sku"], body["quantity"])
    with ledger.sessions.begin() as session:
        answer = redemptions.redeem(session, current_principal(), ledger.ledger_key(), asked,
                                    request.headers.get(IDEMPOTENCY_HEADER, ""),
                                    ledger.clock(), for_branch=body.get("branch"))
    response = jsonify(RedemptionSchema().dump(answer.document))
    response.status_code = 201
    response.headers["Location"] = url_for("counter.show_redemption",
                                           redemption_id=answer.document["redemption_id"])
    if answer.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


@blp.route("/redemptions/<redemption_id>", parameters=[REDEMPTION_PATH_PARAMETER])
@roles("teller", "supervisor", "auditor")
@blp.response(200, RedemptionSchema)
def show_redemption(redemption_id: str) -> dict[str, Any]:
    """One redemption and its reversal, if any"""
    _check_redemption_id(redemption_id)
    with current_ledger().sessions() as session:
        return redemptions.redemption_of(session, current_principal(), redemption_id)


@blp.route("/redemptions/<redemption_id>/reversal", methods=["POST"],
           parameters=[REDEMPTION_PATH_PARAMETER])
@roles("supervisor")
@blp.arguments(ReversalRequestSchema)
@blp.response(201, RedemptionSchema)
def reverse(body: dict[str, Any], redemption_id: str) -> dict[str, Any]:
    """Reverse a redemption of your branch, on its business day, once"""
    _check_redemption_id(redemption_id)
    ledger = current_ledger()
    with ledger.sessions.begin() as session:
        return redemptions.reverse(session, current_principal(), ledger.ledger_key(),
                                   redemption_id, body["reason"], ledger.clock())


@blp.route("/branches/<branch>/reconciliation")
@roles("supervisor", "auditor")
@blp.arguments(ReconciliationQuerySchema, location="query")
@blp.response(200)
@blp.doc(responses={"200": {"content": {"application/json": {}, "text/csv": {}}}})
def reconcile(query: dict[str, Any], branch: str) -> Response:
    """A branch's business day: redemptions, reversals, points and gifts by SKU;
    `Accept: text/csv` gives one line per redemption"""
    with current_ledger().sessions() as session:
        document = reconciliation.reconcile(session, current_principal(), branch,
                                            query["date"])
    if request.accept_mimetypes.best_match(["application/json", "text/csv"]) == "text/csv":
        filename = f"reconciliation-{branch}-{query['date']}.csv"
        return Response(reconciliation.reconciliation_csv(document), mimetype="text/csv",
                        headers={"Content-Disposition": f'attachment; filename="{filename}"'})
    return jsonify(document)


def _check_sku(sku: str) -> None:
    if not SKU_PATTERN.fullmatch(sku):
        raise invalid_input({"sku": SKU_RULE})


def _check_redemption_id(redemption_id: str) -> None:
    if not REDEMPTION_ID_PATTERN.fullmatch(redemption_id):
        raise ProblemError(404, "not_found", "no such redemption")
