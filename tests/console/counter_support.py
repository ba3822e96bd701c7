"""A branch counter ready to serve, for the counter's and the branch's pages: a resident with
points (through the ingestor, as a platform would send them), gifts in the catalog and in stock
at the branch (through the catalog's service), and shortcuts to read what changed."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from html import unescape
from typing import Any

from sqlalchemy import func, select

from ledger.bootstrap import Ledger
from ledger.contract.resident_id import check_character, pseudonym
from ledger.contract.signing import EventSigner
from ledger.domain.outcomes import Status
from ledger.infra.db.models import LedgerEntryRow, Redemption, RedemptionReversal, User
from ledger.service import registry
from ledger.service.access import Principal
from ledger.service.counter import catalog, redemptions
from ledger.service.counter.redemptions import RedemptionRequest
from tests.console.support import BRANCH, PLATFORM
from tests.support import TEST_PEPPER, PlatformFixture, register_platform

# Made-up ID numbers with a right check character (no real person's).
ID_NUMBER = "33010919800101123" + check_character("33010919800101123")
OTHER_ID_NUMBER = "33010919750505456" + check_character("33010919750505456")
RESIDENT = pseudonym(ID_NUMBER, TEST_PEPPER)
OTHER_RESIDENT = pseudonym(OTHER_ID_NUMBER, TEST_PEPPER)
POINTS = 1000
OTHER_PLATFORM = ("nanyang_young", "南阳青年", "南阳街道")
OTHER_POINTS = 300
RICE = ("RICE-5KG", "五常大米 5kg", 40)
COOKWARE = ("COOKWARE", "不粘锅套装", 120)
RICE_STOCK = 10
COOKWARE_STOCK = 2


@dataclass(frozen=True)
class Counter:
    ledger: Ledger

    def redemptions(self) -> int:
        with self.ledger.sessions() as session:
            return session.scalar(select(func.count()).select_from(Redemption)) or 0

    def entries(self) -> int:
        with self.ledger.sessions() as session:
            return session.scalar(select(func.count()).select_from(LedgerEntryRow)) or 0

    def redeem(self, sku: str, quantity: int = 1, teller: str = "li.teller") -> dict[str, Any]:
        """A redemption made at the counter (through the service, as the pages do)."""
        asked = RedemptionRequest(RESIDENT, PLATFORM, sku, quantity)
        with self.ledger.sessions.begin() as session:
            return redemptions.redeem(session, principal(self.ledger, teller),
                                      self.ledger.ledger_key(), asked, str(uuid.uuid4()),
                                      self.ledger.clock()).document

    def reversals(self) -> int:
        with self.ledger.sessions() as session:
            return session.scalar(select(func.count()).select_from(RedemptionReversal)) or 0

    def stock(self, sku: str) -> int:
        with self.ledger.sessions() as session:
            lines = catalog.stock_of(session, principal(self.ledger, "zhou.admin"), BRANCH)
        return next((line["quantity"] for line in lines if line["sku"] == sku), 0)


def principal(ledger: Ledger, username: str) -> Principal:
    with ledger.sessions() as session:
        user = session.scalars(select(User).where(User.username == username)).one()
        return Principal(user.id, user.username, user.role, user.branch, user.platform)


def award(ledger: Ledger, platform: PlatformFixture, resident: str, points: int) -> None:
    (outcome,) = ledger.ingestor.ingest([platform.delivery(resident=resident, points=points)])
    assert outcome.status is Status.RECORDED, outcome


def open_counter(ledger: Ledger, second_platform: bool = False) -> Counter:
    """RESIDENT has POINTS of PLATFORM (and OTHER_POINTS of a second platform, if asked);
    rice and cookware are in the catalog and in stock at BRANCH."""
    now = datetime.now(UTC)
    with ledger.sessions.begin() as session:
        private_key, registered = registry.generate_key(session, PLATFORM, now)
    award(ledger, PlatformFixture(PLATFORM, private_key, registered.key_id,
                                  EventSigner(private_key)), RESIDENT, POINTS)
    if second_platform:
        award(ledger, register_platform(ledger.sessions, *OTHER_PLATFORM), RESIDENT,
              OTHER_POINTS)
    admin, supervisor = principal(ledger, "zhou.admin"), principal(ledger, "wang.supervisor")
    with ledger.sessions.begin() as session:
        for (sku, name, cost), quantity in ((RICE, RICE_STOCK), (COOKWARE, COOKWARE_STOCK)):
            catalog.add_gift(session, admin, sku, name, cost, now)
            catalog.set_stock(session, supervisor, BRANCH, sku, quantity, "到货入库", now)
    return Counter(ledger)


def form_fields(html: str, action: str) -> dict[str, str]:
    """The named inputs of the form whose action is `action`, as a browser would send them
    (select fields: their selected option, else the first)."""
    match = re.search(r'<form[^>]*action="' + re.escape(action) + r'"[^>]*>(.*?)</form>',
                      html, re.DOTALL)
    assert match is not None, f"no form posting to {action}"
    body = match.group(1)
    fields = {name: unescape(value) for name, value in re.findall(
        r'<input[^>]*?name="([^"]+)"[^>]*?value="([^"]*)"', body)}
    for name, options in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', body,
                                    re.DOTALL):
        chosen = (re.search(r'<option selected value="([^"]*)"', options)
                  or re.search(r'<option[^>]*value="([^"]*)"', options))
        assert chosen is not None
        fields[name] = unescape(chosen.group(1))
    return fields
