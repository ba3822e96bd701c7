"""Administration (SPEC §12, §13 "Admin"): platforms and their keys, users, API tokens,
branches and gifts; and the system's status (SPEC §15), as the auditors see it.

Every change is one POST form (with its CSRF token) that calls `ledger.service.administration`
(or the catalog's own use cases) as the signed-in admin, in one transaction with its audit
event: refused as a whole, with the refusal shown in the admin's language, or made as a whole.
"""

from __future__ import annotations

# The views register their routes on the blueprint when imported.
from ledger.console.admin import branches, gifts, home, people, platforms, status, tokens
from ledger.console.admin.blueprint import blp

__all__ = ["blp", "branches", "gifts", "home", "people", "platforms", "status", "tokens"]
