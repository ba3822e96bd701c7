"""Each role's home and the navigation shown on every page (SPEC §13)."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

from ledger.service.access import Principal


@dataclass(frozen=True)
class Place:
    endpoint: str
    label: LazyString
    roles: frozenset[str]


NAVIGATION = (
    Place("console.counter.home", _l("Counter"), frozenset({"teller", "supervisor"})),
    Place("console.branch.home", _l("Branch"), frozenset({"supervisor"})),
    Place("console.rules.home", _l("Rules"), frozenset({"risk_officer"})),
    Place("console.ledger.home", _l("Ledger"), frozenset({"auditor"})),
    Place("console.admin.home", _l("Administration"), frozenset({"admin"})),
    Place("console.platform.home", _l("Platform"), frozenset({"platform_operator"})),
)

ROLE_NAMES = {
    "admin": _l("Administrator"),
    "teller": _l("Teller"),
    "supervisor": _l("Supervisor"),
    "risk_officer": _l("Risk officer"),
    "auditor": _l("Auditor"),
    "credit_system": _l("Loan system"),
    "platform_operator": _l("Platform operator"),
    "monitor": _l("Monitoring"),
}


def role_name(role: str) -> str:
    return str(ROLE_NAMES.get(role, role))


# Where a user lands after signing in: the first place of the navigation open to their role.
NO_HOME = "console.home.no_pages"


def places_for(principal: Principal) -> list[Place]:
    return [place for place in NAVIGATION if principal.role in place.roles]


def home_of(principal: Principal) -> str:
    places = places_for(principal)
    return places[0].endpoint if places else NO_HOME
