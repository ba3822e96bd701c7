"""What the supervisor's page shows of their branch, read in one go: the day's redemptions (the
reconciliation of today, as the service makes it), the stock of every gift, the latest stock
changes, and the names of gifts and platforms."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from ledger.service import registry
from ledger.service.access import Principal
from ledger.service.counter import catalog, reconciliation
from ledger.service.counter.receipts import branch_name
from ledger.service.counter.redemptions import business_day

STOCK_CHANGES_SHOWN = 50


@dataclass(frozen=True)
class BranchDay:
    branch: str
    branch_name: str
    today: str
    day: dict[str, Any]  # reconciliation.reconcile of today
    gifts: list[dict[str, Any]]  # the catalog, each with `quantity` in stock here
    changes: list[dict[str, Any]]
    gift_names: dict[str, str]
    platform_names: dict[str, str]

    @property
    def quantities(self) -> dict[str, int]:
        return {gift["sku"]: gift["quantity"] for gift in self.gifts}


def read_branch_day(session: Session, principal: Principal, now: datetime) -> BranchDay:
    branch = principal.branch
    assert branch is not None  # a supervisor always has their branch
    today = business_day(now)
    stock = {line["sku"]: line["quantity"] for line in catalog.stock_of(session, principal, branch)}
    gifts = [{**gift, "quantity": stock.get(gift["sku"], 0)} for gift in catalog.gifts(session)]
    return BranchDay(
        branch, branch_name(session, branch), today,
        reconciliation.reconcile(session, principal, branch, today), gifts,
        catalog.recent_stock_changes(session, principal, branch, STOCK_CHANGES_SHOWN),
        {gift["sku"]: gift["name"] for gift in gifts},
        {platform.code: platform.name for platform in registry.list_platforms(session)})
