"""Redeeming points for gifts at a branch counter, and reversing a redemption (SPEC §9).

One transaction does everything or nothing: the `points.redeemed` ledger entry and its balance,
the stock, the stock change, the redemption with its receipt number, and the platform's signed
notice in the outbox. It runs under the ledger's append lock, taken before anything is read, so
two tellers serving the same resident (or selling the last gift) at the same moment are served
one after the other: the second sees what the first took. The database's own checks (stock
never below 0, one redemption per teller and Idempotency-Key, one receipt number per branch,
one reversal per redemption) hold even if this code were wrong.

A request is kept with the teller's Idempotency-Key and the SHA-256 of its content: the same
key with the same content answers the first answer again (a retry after a timeout debits
once); the same key with other content is refused.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger.contract.categories import EntryKind
from ledger.contract.notice import NoticeType
from ledger.domain.entry import rfc3339_utc
from ledger.domain.roles import BRANCH_ROLES
from ledger.infra.db.models import BranchStock, Platform, Redemption, RedemptionReversal
from ledger.runtime.metrics import REDEMPTIONS
from ledger.service.access import Principal
from ledger.service.counted_on_commit import count_on_commit
from ledger.service.counter.catalog import checked_reason, gift_of, record_stock_change
from ledger.service.counter.outbox import write_notice
from ledger.service.errors import Conflict, Forbidden, InvalidInput, NotFound
from ledger.service.own_entries import append_own_entry, lock_ledger, spendable

SHANGHAI = ZoneInfo("Asia/Shanghai")
QUANTITY_MAX = 20
IDEMPOTENCY_KEY_LENGTH_MAX = 128


@dataclass(frozen=True)
class RedemptionRequest:
    resident: str
    platform: str
    sku: str
    quantity: int

    def sha256(self) -> str:
        content = {"resident": self.resident, "platform": self.platform, "sku": self.sku,
                   "quantity": self.quantity}
        return hashlib.sha256(json.dumps(content, sort_keys=True).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Answer:
    document: dict[str, Any]
    replayed: bool  # the first answer to the same request, given again


def business_day(moment: datetime) -> str:
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%d")


def redeem(session: Session, principal: Principal, ledger_key: Ed25519PrivateKey,
           request: RedemptionRequest, idempotency_key: str, now: datetime,
           for_branch: str | None = None) -> Answer:
    """`for_branch`, when the client names one, must be the teller's own."""
    branch = _counter_branch(principal)
    if for_branch is not None and for_branch != branch:
        raise Forbidden(f"you serve at branch {branch}, not {for_branch}", code="wrong_branch")
    _check_key(idempotency_key)
    if not 1 <= request.quantity <= QUANTITY_MAX:
        raise InvalidInput("the quantity is out of bounds",
                           errors={"quantity": f"must be between 1 and {QUANTITY_MAX}"})
    lock_ledger(session)
    earlier = session.scalar(select(Redemption).where(
        Redemption.teller == principal.username, Redemption.idempotency_key == idempotency_key))
    if earlier is not None:
        if earlier.request_sha256 != request.sha256():
            raise InvalidInput("this Idempotency-Key was used for another redemption",
                               code="idempotency_key_reused",
                               errors={"Idempotency-Key": "already used with another body"})
        return Answer(redemption_document(earlier), replayed=True)

    if session.get(Platform, request.platform) is None:
        raise InvalidInput("the platform is not registered", code="unknown_platform",
                           errors={"platform": "not a registered platform"})
    try:
        gift = gift_of(session, request.sku)
    except NotFound:
        raise InvalidInput("the gift is not in the catalog", code="unknown_sku",
                           errors={"sku": "no such gift"}) from None
    if not gift.active:
        raise Conflict(f"gift {gift.sku} is no longer redeemed", code="gift_inactive")
    cost = gift.points_cost * request.quantity
    balance = spendable(session, request.resident, request.platform)
    if balance < cost:
        raise Conflict(f"not enough {request.platform} points: the balance is {balance}, the "
                       f"gifts cost {cost}", code="insufficient_points",
                       figures={"balance": balance, "cost": cost})
    stock = session.get(BranchStock, (branch, gift.sku), with_for_update=True,
                        populate_existing=True)
    in_stock = 0 if stock is None else stock.quantity
    if stock is None or in_stock < request.quantity:
        raise Conflict(f"branch {branch} has {in_stock} of {gift.sku} in stock, "
                       f"{request.quantity} asked", code="insufficient_stock",
                       figures={"in_stock": in_stock, "quantity": request.quantity})

    redemption_id = str(uuid.uuid4())
    day = business_day(now)
    receipt_no = _next_receipt_no(session, branch, day)
    appended = append_own_entry(session, EntryKind.REDEEMED, request.platform,
                                request.resident, cost, now, redemption_id, branch)
    stock.quantity = in_stock - request.quantity
    record_stock_change(session, branch, gift.sku, -request.quantity, stock.quantity,
                        f"redemption {receipt_no}", principal.username, now, redemption_id)
    redemption = Redemption(
        id=redemption_id, branch=branch, business_day=day, receipt_no=receipt_no,
        resident=request.resident, platform=request.platform, sku=gift.sku,
        quantity=request.quantity, points=cost, balance_after=balance - cost,
        teller=principal.username, at=now, ledger_seq=appended.seq,
        idempotency_key=idempotency_key, request_sha256=request.sha256())
    session.add(redemption)
    write_notice(session, ledger_key, NoticeType.REDEEMED, platform=request.platform,
                 resident=request.resident, points=cost, now=now, redemption_id=redemption_id,
                 branch=branch, receipt_no=receipt_no, ledger_seq=appended.seq)
    session.flush()
    count_on_commit(session, REDEMPTIONS.labels(branch).inc)
    return Answer(redemption_document(redemption), replayed=False)


def reverse(session: Session, principal: Principal, ledger_key: Ed25519PrivateKey,
            redemption_id: str, reason: str, now: datetime) -> dict[str, Any]:
    """Undo a redemption: by a supervisor of its branch, on its business day, once."""
    reason = checked_reason(reason)
    if principal.role != "supervisor":
        raise Forbidden(f"the role {principal.role} may not reverse redemptions")
    lock_ledger(session)
    redemption = session.get(Redemption, redemption_id)
    if redemption is None:
        raise NotFound(f"redemption {redemption_id} does not exist")
    if redemption.branch != principal.branch:
        raise Forbidden(f"redemption {redemption.receipt_no} was made at branch "
                        f"{redemption.branch}; you supervise {principal.branch}",
                        code="wrong_branch")
    if business_day(now) != redemption.business_day:
        raise Conflict(f"redemption {redemption.receipt_no} was made on "
                       f"{redemption.business_day}: it can only be reversed that day",
                       code="not_same_business_day")
    if session.get(RedemptionReversal, redemption_id) is not None:
        raise Conflict(f"redemption {redemption.receipt_no} is already reversed",
                       code="already_reversed")
    balance = spendable(session, redemption.resident, redemption.platform)
    appended = append_own_entry(session, EntryKind.REDEMPTION_REVERSED, redemption.platform,
                                redemption.resident, redemption.points, now, redemption_id,
                                redemption.branch)
    stock = session.get(BranchStock, (redemption.branch, redemption.sku), with_for_update=True,
                        populate_existing=True)
    assert stock is not None  # the redemption took from it
    stock.quantity += redemption.quantity
    record_stock_change(session, redemption.branch, redemption.sku, redemption.quantity,
                        stock.quantity, f"reversal of {redemption.receipt_no}: {reason}",
                        principal.username, now, redemption_id)
    reversal = RedemptionReversal(redemption_id=redemption_id, supervisor=principal.username,
                                  reason=reason, at=now, ledger_seq=appended.seq,
                                  balance_after=balance + redemption.points)
    session.add(reversal)
    write_notice(session, ledger_key, NoticeType.REDEMPTION_REVERSED,
                 platform=redemption.platform, resident=redemption.resident,
                 points=redemption.points, now=now, redemption_id=redemption_id,
                 branch=redemption.branch, receipt_no=redemption.receipt_no,
                 ledger_seq=appended.seq)
    session.flush()
    return {**redemption_document(redemption), "reversal": reversal_document(reversal)}


def redemption_of(session: Session, principal: Principal, redemption_id: str
                  ) -> dict[str, Any]:
    redemption = session.get(Redemption, redemption_id)
    if redemption is None:
        raise NotFound(f"redemption {redemption_id} does not exist")
    if principal.branch is not None and principal.branch != redemption.branch:
        raise Forbidden(f"redemption {redemption_id} belongs to another branch",
                        code="wrong_branch")
    reversal = session.get(RedemptionReversal, redemption_id)
    return {**redemption_document(redemption),
            "reversal": None if reversal is None else reversal_document(reversal)}


def redemption_document(redemption: Redemption) -> dict[str, Any]:
    return {"redemption_id": redemption.id, "receipt_no": redemption.receipt_no,
            "branch": redemption.branch, "business_day": redemption.business_day,
            "resident": redemption.resident, "platform": redemption.platform,
            "sku": redemption.sku, "quantity": redemption.quantity,
            "points": redemption.points, "balance_after": redemption.balance_after,
            "teller": redemption.teller, "at": rfc3339_utc(redemption.at),
            "ledger_seq": redemption.ledger_seq}


def reversal_document(reversal: RedemptionReversal) -> dict[str, Any]:
    return {"supervisor": reversal.supervisor, "reason": reversal.reason,
            "at": rfc3339_utc(reversal.at), "ledger_seq": reversal.ledger_seq,
            "balance_after": reversal.balance_after}


def _counter_branch(principal: Principal) -> str:
    if principal.role not in BRANCH_ROLES or principal.branch is None:
        raise Forbidden(f"the role {principal.role} does not serve at a counter")
    return principal.branch


def _check_key(idempotency_key: str) -> None:
    if not idempotency_key or len(idempotency_key) > IDEMPOTENCY_KEY_LENGTH_MAX \
            or not idempotency_key.isprintable() or not idempotency_key.isascii():
        raise InvalidInput("a redemption needs an Idempotency-Key header",
                           code="idempotency_key_required",
                           errors={"Idempotency-Key": f"1-{IDEMPOTENCY_KEY_LENGTH_MAX} "
                                   "printable ASCII characters, new for each redemption"})


def _next_receipt_no(session: Session, branch: str, day: str) -> str:
    """`{branch}-{YYYYMMDD}-{n:04d}`, n counting the branch's redemptions of the day (under
    the ledger lock, so no two get the same; the database refuses a duplicate anyway)."""
    count = session.scalar(select(func.count()).select_from(Redemption).where(
        Redemption.branch == branch, Redemption.business_day == day)) or 0
    return f"{branch}-{day.replace('-', '')}-{count + 1:04d}"
