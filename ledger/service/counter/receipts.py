"""What a counter receipt prints (SPEC §13): the redemption with the names a resident reads,
the gift's, the branch's and the platform's, rather than their codes."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from ledger.infra.db.models import Branch, Platform
from ledger.service.access import Principal
from ledger.service.counter.catalog import gift_of
from ledger.service.counter.redemptions import redemption_of


def receipt(session: Session, principal: Principal, redemption_id: str) -> dict[str, Any]:
    """The redemption (as `redemption_of` gives it, with the same access rule) and
    `gift_name`, `branch_name`, `platform_name`."""
    document = redemption_of(session, principal, redemption_id)
    platform = session.get(Platform, document["platform"])
    return {**document, "gift_name": gift_of(session, document["sku"]).name,
            "branch_name": branch_name(session, document["branch"]),
            "platform_name": document["platform"] if platform is None else platform.name}


def branch_name(session: Session, code: str) -> str:
    """The branch's name, or its code for a branch that is not registered."""
    branch = session.get(Branch, code)
    return code if branch is None else branch.name
