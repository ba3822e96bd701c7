"""What the counter shows of a resident, read in one go: balances per platform (with the
platform's name), recent entries, and the gifts with their cost and this branch's stock."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask_babel import format_decimal
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from ledger.console.counter import labels
from ledger.service import registry, residents
from ledger.service.access import Principal
from ledger.service.counter import catalog


@dataclass(frozen=True)
class Entry:
    at: datetime
    platform: str
    kind: str
    category: str
    points: int
    receipt_branch: str | None


@dataclass(frozen=True)
class GiftLine:
    sku: str
    name: str
    points_cost: int
    in_stock: int


@dataclass(frozen=True)
class ResidentView:
    resident: str
    balances: list[dict[str, Any]]
    platform_names: dict[str, str]
    entries: list[Entry]
    gifts: list[GiftLine]
    # Where the resident's points may be spent: (platform, its label), the largest balance first.
    platform_choices: list[tuple[str, str]] = field(default_factory=list)

    def platform_name(self, code: str) -> str:
        return self.platform_names.get(code, code)


def read_resident(session: Session, principal: Principal, resident: str) -> ResidentView:
    assert principal.branch is not None  # a counter role always has its branch
    names = {platform.code: platform.name for platform in registry.list_platforms(session)}
    balances = residents.balances(session, resident)
    entries = [Entry(row.occurred_at, names.get(row.platform, row.platform),
                     labels.entry_kind(row.kind), labels.category(row.category), row.points,
                     row.branch)
               for row in residents.recent_entries(session, resident)]
    stock = {line["sku"]: line["quantity"]
             for line in catalog.stock_of(session, principal, principal.branch)}
    gifts = [GiftLine(gift["sku"], gift["name"], gift["points_cost"], stock.get(gift["sku"], 0))
             for gift in catalog.gifts(session) if gift["active"]]
    spendable_first = sorted(balances, key=lambda line: (-line["spendable"], line["platform"]))
    choices = [(line["platform"],
                _("%(platform)s (%(points)s points)",
                  platform=names.get(line["platform"], line["platform"]),
                  points=format_decimal(line["spendable"])))
               for line in spendable_first]
    return ResidentView(resident, balances, names, entries, gifts, choices)
