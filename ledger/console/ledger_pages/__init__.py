"""The ledger, for auditors: head and `Verify`, entries, rejections, platforms and gaps, the
audit trail, a decision's replay (SPEC §13), and the system's status (SPEC §15)."""

from __future__ import annotations

from ledger.console.ledger_pages import decisions, lists, overview, status
from ledger.console.ledger_pages.blueprint import blp

__all__ = ["blp", "decisions", "lists", "overview", "status"]
