"""The counter: look a resident up, redeem points for gifts, print the receipt. (SPEC §13)"""

from __future__ import annotations

from ledger.console.counter.views import blp

__all__ = ["blp"]
