"""The gift catalog and each branch's stock (SPEC §9); every stock change is recorded.

Who may do what: admins keep the catalog and any branch's stock; a supervisor keeps the stock
of their own branch. Stock is set to a counted quantity (a delivery, a stocktake), never
silently: each change keeps its delta, the quantity after it, who and why. Changes to the catalog
are in the audit trail (SPEC §12).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.domain.entry import rfc3339_utc
from ledger.infra.db.models import Branch, BranchStock, Gift, StockChange
from ledger.service.access import Principal
from ledger.service.audit_trail import append_audit
from ledger.service.errors import Conflict, Forbidden, InvalidInput, NotFound

SKU_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,31}")
GIFT_NAME_LENGTH_MAX = 200
POINTS_COST_MAX = 1_000_000
STOCK_QUANTITY_MAX = 1_000_000
REASON_LENGTH_MAX = 500


def add_gift(session: Session, principal: Principal, sku: str, name: str, points_cost: int,
             now: datetime) -> dict[str, Any]:
    _require_admin(principal)
    errors = {}
    if not SKU_PATTERN.fullmatch(sku):
        errors["sku"] = "must be 1-32 of [A-Za-z0-9._-], starting with a letter or digit"
    if not name.strip() or len(name) > GIFT_NAME_LENGTH_MAX:
        errors["name"] = f"must be 1-{GIFT_NAME_LENGTH_MAX} characters"
    if not 1 <= points_cost <= POINTS_COST_MAX:
        errors["points_cost"] = f"must be between 1 and {POINTS_COST_MAX}"
    if errors:
        raise InvalidInput("the gift is not valid", errors=errors)
    if session.get(Gift, sku) is not None:
        raise Conflict(f"gift {sku!r} is already in the catalog", code="gift_exists")
    gift = Gift(sku=sku, name=name.strip(), points_cost=points_cost, active=True,
                created_at=now)
    session.add(gift)
    session.flush()
    append_audit(session, now, principal.username, "gift.added", f"gift:{sku}",
                 f"gift {sku} added to the catalog",
                 details={"name": gift.name, "points_cost": points_cost})
    return gift_document(gift)


def set_gift_active(session: Session, principal: Principal, sku: str, active: bool,
                    now: datetime) -> dict[str, Any]:
    """Take a gift off the counter (or back): its past redemptions still name it."""
    _require_admin(principal)
    gift = gift_of(session, sku)
    if gift.active != active:
        gift.active = active
        session.flush()
        action = "activated" if active else "deactivated"
        append_audit(session, now, principal.username, f"gift.{action}", f"gift:{sku}",
                     f"gift {sku} {action}", details={"active": active})
    return gift_document(gift)


def gifts(session: Session) -> list[dict[str, Any]]:
    return [gift_document(gift) for gift in session.scalars(select(Gift).order_by(Gift.sku))]


def gift_of(session: Session, sku: str) -> Gift:
    gift = session.get(Gift, sku)
    if gift is None:
        raise NotFound(f"no gift {sku!r} in the catalog", code="unknown_sku")
    return gift


def gift_document(gift: Gift) -> dict[str, Any]:
    return {"sku": gift.sku, "name": gift.name, "points_cost": gift.points_cost,
            "active": gift.active}


def set_stock(session: Session, principal: Principal, branch: str, sku: str, quantity: int,
              reason: str, now: datetime) -> dict[str, Any]:
    require_branch_keeper(session, principal, branch)
    gift = gift_of(session, sku)
    if not 0 <= quantity <= STOCK_QUANTITY_MAX:
        raise InvalidInput("the quantity is out of bounds",
                           errors={"quantity": f"must be between 0 and {STOCK_QUANTITY_MAX}"})
    reason = checked_reason(reason)
    stock = session.get(BranchStock, (branch, sku), with_for_update=True)
    before = 0 if stock is None else stock.quantity
    if stock is None:
        stock = BranchStock(branch=branch, sku=sku, quantity=quantity)
        session.add(stock)
    else:
        stock.quantity = quantity
    record_stock_change(session, branch, sku, quantity - before, quantity, reason,
                        principal.username, now)
    return {"branch": branch, "sku": sku, "name": gift.name, "quantity": quantity}


def stock_of(session: Session, principal: Principal, branch: str) -> list[dict[str, Any]]:
    _require_branch_reader(session, principal, branch)
    rows = session.execute(select(BranchStock, Gift).join(Gift, Gift.sku == BranchStock.sku)
                           .where(BranchStock.branch == branch).order_by(BranchStock.sku))
    return [{"branch": branch, "sku": stock.sku, "name": gift.name, "quantity": stock.quantity,
             "points_cost": gift.points_cost, "active": gift.active} for stock, gift in rows]


def stock_changes(session: Session, principal: Principal, branch: str, after: int,
                  limit: int) -> tuple[list[dict[str, Any]], int | None]:
    """A page of the branch's stock changes, oldest first, and the next page's cursor."""
    _require_branch_reader(session, principal, branch)
    rows = session.scalars(select(StockChange).where(StockChange.branch == branch,
                                                     StockChange.id > after)
                           .order_by(StockChange.id).limit(limit + 1)).all()
    shown = rows[:limit]
    return ([_stock_change_document(row) for row in shown],
            shown[-1].id if len(rows) > limit else None)


def recent_stock_changes(session: Session, principal: Principal, branch: str,
                         limit: int) -> list[dict[str, Any]]:
    """The branch's latest `limit` stock changes, newest first (a supervisor's day)."""
    _require_branch_reader(session, principal, branch)
    rows = session.scalars(select(StockChange).where(StockChange.branch == branch)
                           .order_by(StockChange.id.desc()).limit(limit))
    return [_stock_change_document(row) for row in rows]


def _stock_change_document(row: StockChange) -> dict[str, Any]:
    return {"id": row.id, "sku": row.sku, "delta": row.delta,
            "quantity_after": row.quantity_after, "reason": row.reason, "actor": row.actor,
            "at": rfc3339_utc(row.at), "redemption_id": row.redemption_id}


def record_stock_change(session: Session, branch: str, sku: str, delta: int,
                        quantity_after: int, reason: str, actor: str, now: datetime,
                        redemption_id: str | None = None) -> None:
    session.add(StockChange(branch=branch, sku=sku, delta=delta, quantity_after=quantity_after,
                            reason=reason, actor=actor, at=now, redemption_id=redemption_id))
    session.flush()


def require_branch_keeper(session: Session, principal: Principal, branch: str) -> None:
    """Admins keep every branch's stock, a supervisor their own branch's."""
    _require_branch(session, branch)
    if principal.role == "admin":
        return
    if principal.role != "supervisor":
        raise Forbidden(f"the role {principal.role} may not change stock")
    if principal.branch != branch:
        raise Forbidden(f"you supervise branch {principal.branch}, not {branch}",
                        code="wrong_branch")


def checked_reason(reason: str) -> str:
    text = reason.strip()
    if not text or len(text) > REASON_LENGTH_MAX:
        raise InvalidInput("a reason is kept with every change",
                           errors={"reason": f"must be 1-{REASON_LENGTH_MAX} characters"})
    return text


def _require_branch_reader(session: Session, principal: Principal, branch: str) -> None:
    """Staff of a branch read their own branch only; the others (admins, auditors) any."""
    _require_branch(session, branch)
    if principal.branch is not None and principal.branch != branch:
        raise Forbidden(f"you belong to branch {principal.branch}, not {branch}",
                        code="wrong_branch")


def _require_branch(session: Session, branch: str) -> None:
    if session.get(Branch, branch) is None:
        raise NotFound(f"branch {branch!r} is not registered")


def _require_admin(principal: Principal) -> None:
    if principal.role != "admin":
        raise Forbidden(f"the role {principal.role} may not change the gift catalog")
