"""A platform operator's own platform: its events, recorded and rejected with the reasons, and
its gaps. (SPEC §13)"""

from __future__ import annotations

from ledger.console.platform.views import blp

__all__ = ["blp"]
