"""The branch: today's redemptions and reversals, stock, the day's reconciliation. (SPEC §13)"""

from __future__ import annotations

from ledger.console.branch.views import blp

__all__ = ["blp"]
