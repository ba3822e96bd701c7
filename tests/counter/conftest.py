"""A branch counter ready to serve: two branches and their staff with tokens, a platform whose
residents have points, gifts in stock (SPEC §9)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from flask.testing import FlaskClient

from ledger.bootstrap import Ledger
from ledger.domain.outcomes import Status
from ledger.service import access
from ledger.service.access import Principal, authenticate
from tests.support import RESIDENT_A, RESIDENT_B, PlatformFixture, register_platform

BRANCH = "XS-GUALI"
OTHER_BRANCH = "XS-NANYANG"
PLATFORM = "lijiayuan"
COOKWARE = ("COOKWARE", "不粘锅套装", 120)
RICE = ("RICE-5KG", "五常大米 5kg", 40)
A_POINTS = 1000  # resident A's lijiayuan balance
B_POINTS = 50


@dataclass(frozen=True)
class Staff:
    tokens: dict[str, str]
    principals: dict[str, Principal]

    def headers(self, username: str, key: str | None = None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.tokens[username]}"}
        if key is not None:
            headers["Idempotency-Key"] = key
        return headers


STAFF = (
    ("admin-zhou", "admin", None),
    ("auditor-qian", "auditor", None),
    ("teller-li", "teller", BRANCH),
    ("teller-wang", "teller", BRANCH),
    ("teller-chen", "teller", OTHER_BRANCH),
    ("supervisor-zhao", "supervisor", BRANCH),
    ("supervisor-sun", "supervisor", OTHER_BRANCH),
    ("risk-wu", "risk_officer", None),
)


@pytest.fixture
def staff(ledger: Ledger) -> Staff:
    now = datetime.now(UTC)
    tokens: dict[str, str] = {}
    with ledger.sessions.begin() as session:
        access.add_branch(session, BRANCH, "萧山农商银行瓜沥支行", now)
        access.add_branch(session, OTHER_BRANCH, "萧山农商银行南阳支行", now)
        for username, role, branch in STAFF:
            access.add_user(session, username, role, branch, now)
            tokens[username], _ = access.create_token(session, username, now)
    with ledger.sessions() as session:
        principals = {name: authenticate(session, token, now) for name, token in tokens.items()}
    return Staff(tokens, {name: principal for name, principal in principals.items()
                          if principal is not None})


@pytest.fixture
def points_platform(ledger: Ledger) -> PlatformFixture:
    """The platform whose points the residents spend."""
    return register_platform(ledger.sessions, PLATFORM)


@pytest.fixture
def counter(ledger: Ledger, staff: Staff, client: FlaskClient,
            points_platform: PlatformFixture) -> Staff:
    """Residents with points; cookware and rice in stock at BRANCH (2 and 10)."""
    platform = points_platform
    for resident, points in ((RESIDENT_A, A_POINTS), (RESIDENT_B, B_POINTS)):
        (outcome,) = ledger.ingestor.ingest([platform.delivery(resident=resident,
                                                               points=points)])
        assert outcome.status is Status.RECORDED
    for sku, name, cost in (COOKWARE, RICE):
        response = client.post("/api/v1/gifts", headers=staff.headers("admin-zhou"),
                               json={"sku": sku, "name": name, "points_cost": cost})
        assert response.status_code == 201, response.json
    for sku, quantity in ((COOKWARE[0], 2), (RICE[0], 10)):
        response = client.put(f"/api/v1/branches/{BRANCH}/stock/{sku}",
                              headers=staff.headers("supervisor-zhao"),
                              json={"quantity": quantity, "reason": "delivery from head office"})
        assert response.status_code == 200, response.json
    return staff
