"""A branch's day at the counter (SPEC §9): every redemption and reversal, and their totals by
gift and by platform, for the supervisor closing the day and for auditors.

The figures come from the redemptions and reversals themselves; each names the ledger entry
that recorded it, so the totals can be held against the ledger's own redemption entries.
"""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.infra.db.models import Branch, Gift, Redemption, RedemptionReversal
from ledger.service.access import Principal
from ledger.service.counter.redemptions import redemption_document, reversal_document
from ledger.service.errors import Forbidden, InvalidInput, NotFound

DAY_PATTERN = re.compile(r"\d{4}-\d{2}-\d{2}")
# What makes a spreadsheet read a cell as a formula, in ASCII and in the full-width forms a
# Chinese input method types (＝ ＋ － ＠, which LibreOffice and WPS also take as formulas).
FORMULA_STARTS = frozenset("=+-@\t\r\n＝＋－＠")
CSV_COLUMNS = ("receipt_no", "redemption_id", "at", "teller", "platform", "sku", "gift",
               "quantity", "points", "ledger_seq", "reversed_at", "reversed_by",
               "reversal_reason", "reversal_ledger_seq")


def reconcile(session: Session, principal: Principal, branch: str, day: str
              ) -> dict[str, Any]:
    _check(session, principal, branch, day)
    rows = session.execute(
        select(Redemption, RedemptionReversal, Gift.name)
        .join(Gift, Gift.sku == Redemption.sku)
        .outerjoin(RedemptionReversal, RedemptionReversal.redemption_id == Redemption.id)
        .where(Redemption.branch == branch, Redemption.business_day == day)
        .order_by(Redemption.receipt_no)).all()
    by_sku: dict[str, dict[str, Any]] = {}
    by_platform: defaultdict[str, dict[str, int]] = defaultdict(
        lambda: {"redeemed_points": 0, "reversed_points": 0})
    items = []
    redeemed_points = reversed_points = reversals = 0
    for redemption, reversal, name in rows:
        line = by_sku.setdefault(redemption.sku, {
            "sku": redemption.sku, "name": name, "redeemed_quantity": 0,
            "reversed_quantity": 0, "redeemed_points": 0, "reversed_points": 0})
        line["redeemed_quantity"] += redemption.quantity
        line["redeemed_points"] += redemption.points
        by_platform[redemption.platform]["redeemed_points"] += redemption.points
        redeemed_points += redemption.points
        if reversal is not None:
            reversals += 1
            line["reversed_quantity"] += redemption.quantity
            line["reversed_points"] += redemption.points
            by_platform[redemption.platform]["reversed_points"] += redemption.points
            reversed_points += redemption.points
        items.append({**redemption_document(redemption), "gift": name,
                      "reversal": None if reversal is None else reversal_document(reversal)})
    return {
        "branch": branch, "date": day,
        "redemptions": len(rows), "reversals": reversals,
        "redeemed_points": redeemed_points, "reversed_points": reversed_points,
        "net_points": redeemed_points - reversed_points,
        "by_sku": [{**line, "net_quantity": line["redeemed_quantity"]
                    - line["reversed_quantity"]} for _, line in sorted(by_sku.items())],
        "by_platform": [{"platform": platform, **figures}
                        for platform, figures in sorted(by_platform.items())],
        "items": items,
    }


BYTE_ORDER_MARK = "\ufeff"


def reconciliation_csv(document: dict[str, Any]) -> str:
    """One line per redemption, in receipt order, then the day's totals as a last line."""
    out = io.StringIO()
    # A byte order mark first: Excel on a Chinese Windows reads a CSV without one as GBK and
    # garbles the gifts' names; csv readers take it with `utf-8-sig`.
    out.write(BYTE_ORDER_MARK)
    # Every cell quoted: a `;` or `,` (list separators in some locales) stays inside its cell.
    writer = csv.writer(out, lineterminator="\r\n", quoting=csv.QUOTE_ALL)
    writer.writerow(CSV_COLUMNS)
    for item in document["items"]:
        reversal = item["reversal"] or {}
        values = [item["receipt_no"], item["redemption_id"], item["at"], item["teller"],
                  item["platform"], item["sku"], item["gift"], item["quantity"],
                  item["points"], item["ledger_seq"], reversal.get("at", ""),
                  reversal.get("supervisor", ""), reversal.get("reason", ""),
                  reversal.get("ledger_seq", "")]
        writer.writerow([_cell(value) for value in values])
    writer.writerow(["TOTAL", "", document["date"], "", "", "", "",
                     sum(item["quantity"] for item in document["items"]),
                     document["redeemed_points"], "", "", "", "", ""])
    return out.getvalue()


def _cell(value: object) -> object:
    """Text a spreadsheet would run as a formula (a gift named "=…", or " ＝…") is made text by
    a leading `'`; spaces before the sign do not stop a spreadsheet, so they do not stop this."""
    if isinstance(value, str) and value.lstrip(" \u3000")[:1] in FORMULA_STARTS:
        return "'" + value
    return value


def _check(session: Session, principal: Principal, branch: str, day: str) -> None:
    if not DAY_PATTERN.fullmatch(day):
        raise InvalidInput("the date is not valid", errors={"date": "must be YYYY-MM-DD"})
    if session.get(Branch, branch) is None:
        raise NotFound(f"branch {branch!r} is not registered")
    if principal.role == "auditor":
        return
    if principal.role != "supervisor":
        raise Forbidden(f"the role {principal.role} may not reconcile a branch")
    if principal.branch != branch:
        raise Forbidden(f"you supervise branch {principal.branch}, not {branch}",
                        code="wrong_branch")
