"""The demo's branch counter, through the real API (SPEC §9): the admin's gift catalog, the
supervisor's stock delivery, a teller's redemptions (one retried with the same
Idempotency-Key, one refused for want of points), a reversal and the day's reconciliation.

Each run delivers stock again and serves new redemptions.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import func, select

from adapters.base.outbox.database import Outbox, default_outbox_url
from adapters.base.residents import ResidentSeal
from ledger.bootstrap import Ledger
from ledger.demo.setup import DEMO_BRANCH
from ledger.infra.db.models import Balance, OutboundNotice
from ledger.service.counter.redemptions import business_day

API = "/api/v1"
PLATFORM = "lijiayuan"
GIFTS = (("COOKWARE", "不粘锅套装 (cookware set)", 120), ("RICE-5KG", "五常大米 5kg (rice)", 40),
         ("TOWELS", "毛巾礼盒 (towel set)", 15))
DELIVERY = {"COOKWARE": 3, "RICE-5KG": 20, "TOWELS": 50}


class DemoCounterFailed(Exception):
    """The API refused a step of the demo's own script."""


def tell_counter(client: FlaskClient, ledger: Ledger, tokens: dict[str, str],
                 now: datetime) -> list[str]:
    api = _Api(client, tokens)
    branch = DEMO_BRANCH[0]
    lines: list[str] = []
    known = {gift["sku"] for gift in api.call("get", "/gifts", "demo-teller")["items"]}
    for sku, name, cost in GIFTS:
        if sku not in known:
            api.call("post", "/gifts", "demo-admin", json={"sku": sku, "name": name,
                                                            "points_cost": cost}, status=201)
    for sku, quantity in DELIVERY.items():
        api.call("put", f"/branches/{branch}/stock/{sku}", "demo-supervisor",
                 json={"quantity": quantity, "reason": "delivery from head office"})
    lines.append(f"catalog: {', '.join(f'{sku} {cost} points' for sku, _, cost in GIFTS)}; "
                 f"stock at {branch} counted in by demo-supervisor")

    richest, modest = _residents(ledger)
    if richest is None or modest is None:
        return [*lines, f"too few {PLATFORM} residents with enough points yet: nothing redeemed"]
    rice = api.redeem(richest, "RICE-5KG", 1)
    key = str(uuid.uuid4())
    towels = api.redeem(modest, "TOWELS", 2, key)
    retried = api.redeem(modest, "TOWELS", 2, key)
    lines.append(f"demo-teller redeems for {richest[:12]}…: 1 × RICE-5KG for {rice['points']} "
                 f"points, receipt {rice['receipt_no']}, balance after {rice['balance_after']}")
    lines.append(f"demo-teller redeems for {modest[:12]}…: 2 × TOWELS, receipt "
                 f"{towels['receipt_no']}; the same request retried (same Idempotency-Key) "
                 f"answers receipt {retried['receipt_no']} again, debited once")
    refused = client.post(f"{API}/redemptions", headers=api.headers("demo-teller", "demo-"
                                                                    + str(uuid.uuid4())),
                          json={"resident": modest, "platform": PLATFORM, "sku": "COOKWARE",
                                "quantity": 3})
    problem: dict[str, Any] = refused.json or {}
    if refused.status_code == 409 and problem.get("code") == "insufficient_points":
        lines.append(f"3 × COOKWARE for {modest[:12]}… refused: balance "
                     f"{problem['balance']}, cost {problem['cost']}")
    api.call("post", f"/redemptions/{rice['redemption_id']}/reversal", "demo-supervisor",
             json={"reason": "the resident chose another gift"}, status=201)
    lines.append(f"demo-supervisor reverses receipt {rice['receipt_no']} (same business day)")
    day = business_day(now)
    closing = api.call("get", f"/branches/{branch}/reconciliation", "demo-supervisor",
                       query_string={"date": day})
    lines.append(f"reconciliation {branch} {day}: {closing['redemptions']} redemptions, "
                 f"{closing['reversals']} reversed, {closing['net_points']} points net")
    with ledger.sessions() as session:
        waiting = session.scalar(select(func.count()).select_from(OutboundNotice)
                                 .where(OutboundNotice.published_at.is_(None))) or 0
    lines.append(f"notices to {PLATFORM} waiting in the outbox: {waiting} (no broker in the "
                 "embedded mode; `pointsledger notices relay` publishes them)")
    return lines


def _residents(ledger: Ledger) -> tuple[str | None, str | None]:
    """The resident with the most spendable points, who can afford the rice, and another who
    can afford two towel sets but fewer than a cookware set; (None, None) when the feed gave
    nobody that much (a small `--events-per-platform`)."""
    rice = _cost("RICE-5KG")
    two_towels = 2 * _cost("TOWELS")
    with ledger.sessions() as session:
        rows = session.execute(
            select(Balance.resident, Balance.spendable).where(Balance.platform == PLATFORM,
                                                              Balance.spendable >= two_towels)
            .order_by(Balance.spendable.desc(), Balance.resident)).all()
    if len(rows) < 2 or rows[0][1] < rice:
        return None, None
    richest = rows[0][0]
    modest = next((resident for resident, points in rows[1:] if points < 3 * _cost("COOKWARE")),
                  rows[-1][0])
    return richest, modest


def _cost(sku: str) -> int:
    return next(cost for gift, _name, cost in GIFTS if gift == sku)


class _Api:
    def __init__(self, client: FlaskClient, tokens: dict[str, str]) -> None:
        self._client = client
        self._tokens = tokens

    def headers(self, username: str, key: str | None = None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self._tokens[username]}"}
        if key is not None:
            headers["Idempotency-Key"] = key
        return headers

    def call(self, method: str, path: str, username: str, status: int = 200,
             **options: Any) -> dict[str, Any]:
        response = getattr(self._client, method)(f"{API}{path}", headers=self.headers(username),
                                                 **options)
        if response.status_code != status:
            detail = response.json.get("detail") if response.json else ""
            raise DemoCounterFailed(f"{method.upper()} {path} answered "
                                    f"{response.status_code}: {detail}")
        document: dict[str, Any] = response.json
        return document

    def redeem(self, resident: str, sku: str, quantity: int,
               key: str | None = None) -> dict[str, Any]:
        response = self._client.post(
            f"{API}/redemptions", headers=self.headers("demo-teller", key or str(uuid.uuid4())),
            json={"resident": resident, "platform": PLATFORM, "sku": sku, "quantity": quantity})
        document: dict[str, Any] = response.json or {}
        if response.status_code != 201:
            raise DemoCounterFailed(f"the redemption was refused: {document.get('detail')}")
        return document


@dataclass(frozen=True)
class CounterExample:
    """A demo resident a newcomer can look up at the counter, and what they will find."""

    id_number: str
    points: int


def counter_example(ledger: Ledger, pepper: str) -> CounterExample | None:
    """The 沥家园 resident with the most spendable points, by the (made-up) ID number the
    platform's simulator gave them. Only the adapter knows residents by ID number: its outbox
    keeps them sealed under the pepper, to deliver the ledger's notices."""
    with ledger.sessions() as session:
        row = session.execute(
            select(Balance.resident, Balance.spendable).where(Balance.platform == PLATFORM)
            .order_by(Balance.spendable.desc(), Balance.resident).limit(1)).first()
    if row is None:
        return None
    outbox = Outbox(default_outbox_url(PLATFORM), PLATFORM)
    try:
        sealed = outbox.residents.sealed_id_number(row.resident)
    finally:
        outbox.close()
    if sealed is None:
        return None
    return CounterExample(ResidentSeal(pepper).open(row.resident, sealed), row.spendable)
