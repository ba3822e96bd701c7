"""Balances and monthly contribution, accumulated per batch and written as a few upserts."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from ledger.contract.categories import EntryKind
from ledger.infra.db.bulk import add_to_existing_rows, add_up_rows
from ledger.infra.db.models import Balance, MonthlyContribution

SHANGHAI = ZoneInfo("Asia/Shanghai")

BALANCE_FIELDS = ("earned", "deducted", "revoked", "redeemed", "spendable")
CONTRIBUTION_FIELDS = ("awarded", "revoked", "deducted", "deductions")


def shanghai_month(moment: datetime) -> str:
    return moment.astimezone(SHANGHAI).strftime("%Y-%m")


@dataclass
class ProjectionDeltas:
    """What one batch adds to the balance and contribution projections."""

    balances: defaultdict[tuple[str, str], dict[str, int]]
    contributions: defaultdict[tuple[str, str, str, str], dict[str, int]]

    @classmethod
    def empty(cls) -> ProjectionDeltas:
        return cls(
            defaultdict(lambda: dict.fromkeys(BALANCE_FIELDS, 0)),
            defaultdict(lambda: dict.fromkeys(CONTRIBUTION_FIELDS, 0)),
        )

    def add(self, kind: EntryKind, resident: str, platform: str, magnitude: int,
            category: str | None, occurred_at: datetime) -> None:
        """`category` and `occurred_at` are those of the award for a revocation (SPEC §6)."""
        balance = self.balances[(resident, platform)]
        balance["spendable"] += kind.delta_sign * magnitude
        if kind is EntryKind.AWARDED:
            balance["earned"] += magnitude
        elif kind is EntryKind.DEDUCTED:
            balance["deducted"] += magnitude
        elif kind is EntryKind.REVOKED:
            balance["revoked"] += magnitude
        elif kind is EntryKind.REDEEMED:
            balance["redeemed"] += magnitude
        elif kind is EntryKind.REDEMPTION_REVERSED:
            balance["redeemed"] -= magnitude
        if kind in (EntryKind.REDEEMED, EntryKind.REDEMPTION_REVERSED):
            return  # spending is not misbehaviour: contribution is untouched
        assert category is not None
        month = self.contributions[(resident, platform, category, shanghai_month(occurred_at))]
        if kind is EntryKind.AWARDED:
            month["awarded"] += magnitude
        elif kind is EntryKind.REVOKED:
            month["revoked"] += magnitude
        else:
            month["deducted"] += magnitude
            month["deductions"] += 1

    def write(self, session: Session) -> None:
        balance_rows = [
            {"resident": resident, "platform": platform, **values}
            for (resident, platform), values in self.balances.items()
        ]
        add_up_rows(session, Balance.__table__, balance_rows,  # type: ignore[arg-type]
                    BALANCE_FIELDS)
        # Invariant (CHECK revoked <= awarded): a cell never revokes more than it awarded. A
        # revocation restates a recorded award (same resident, platform, category and points)
        # and counts in that award's month and category, and an award is revoked at most once
        # (ledger.domain.deciding): what a cell revokes, it awarded first. A batch may still
        # revoke more in a cell than it awards there, when the award was recorded by an earlier
        # batch: that cell exists, and the row is only added to it, never proposed as a new row.
        table = MonthlyContribution.__table__
        adds: list[dict[str, Any]] = []
        revokes_earlier: list[dict[str, Any]] = []
        for (resident, platform, category, month), values in self.contributions.items():
            rows = revokes_earlier if values["revoked"] > values["awarded"] else adds
            rows.append({"resident": resident, "platform": platform, "category": category,
                         "month": month, **values})
        add_up_rows(session, table, adds, CONTRIBUTION_FIELDS)  # type: ignore[arg-type]
        updated = add_to_existing_rows(session, table,  # type: ignore[arg-type]
                                       revokes_earlier, CONTRIBUTION_FIELDS)
        assert updated == len(revokes_earlier), "a revocation's award has no contribution cell"
