"""The relational model, one module per context. Tables marked `append_only` are guarded by
database triggers (ledger/infra/db/append_only.py).

Importing this package imports every context, so that `Base.metadata` holds all the tables
(the migrations and `append_only_tables` read it); the models are imported from here."""

from __future__ import annotations

from ledger.infra.db.models.audit import AuditEvent
from ledger.infra.db.models.base import Base
from ledger.infra.db.models.checkpoints import CheckpointRow, Witness, WitnessCosignature
from ledger.infra.db.models.console import ConsoleJob, ConsoleSession
from ledger.infra.db.models.counter import (
    BranchStock,
    Gift,
    OutboundNotice,
    Redemption,
    RedemptionReversal,
    StockChange,
)
from ledger.infra.db.models.entries import Balance, LedgerEntryRow, MonthlyContribution, Rejection
from ledger.infra.db.models.people import ApiToken, Branch, User
from ledger.infra.db.models.platforms import Platform, PlatformKey, PlatformSeqGap
from ledger.infra.db.models.rules import (
    RULESET_ACTIONS,
    Decision,
    RuleSetTransition,
    RuleSetVersion,
    Simulation,
)
from ledger.infra.db.models.tree import MerkleTile

__all__ = [
    "RULESET_ACTIONS",
    "ApiToken",
    "AuditEvent",
    "Balance",
    "Base",
    "Branch",
    "BranchStock",
    "CheckpointRow",
    "ConsoleJob",
    "ConsoleSession",
    "Decision",
    "Gift",
    "LedgerEntryRow",
    "MerkleTile",
    "MonthlyContribution",
    "OutboundNotice",
    "Platform",
    "PlatformKey",
    "PlatformSeqGap",
    "Redemption",
    "RedemptionReversal",
    "Rejection",
    "RuleSetTransition",
    "RuleSetVersion",
    "Simulation",
    "StockChange",
    "User",
    "Witness",
    "WitnessCosignature",
    "append_only_tables",
]


def append_only_tables() -> list[str]:
    return sorted(
        table.name for table in Base.metadata.sorted_tables if table.info.get("append_only")
    )
