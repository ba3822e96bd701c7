"""The roles of SPEC §12: who may do what is decided by role everywhere (the API, the console,
the CLI, the database's own check on users.role), from this one list."""

from __future__ import annotations

ROLES = ("admin", "teller", "supervisor", "risk_officer", "auditor", "credit_system",
         "platform_operator", "monitor")
# The roles that work at one branch (a user of theirs names it): the counter's staff.
BRANCH_ROLES = ("teller", "supervisor")
# The roles that read one platform's events (a user of theirs names it).
PLATFORM_ROLES = ("platform_operator",)
# The bank's own people and systems. A platform's operator and a monitoring system are outsiders
# to the bank's business: they read only what SPEC §12 gives them, never "any role" routes.
BUSINESS_ROLES = tuple(role for role in ROLES if role not in ("platform_operator", "monitor"))
