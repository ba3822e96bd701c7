"""What the branch page says about a refused change, in the user's language."""

from __future__ import annotations

import re
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ledger.service.errors import ServiceError

REVERSAL_REFUSALS = {
    "not_same_business_day": _l(
        "A redemption can only be reversed on the business day it was made (Beijing time). "
        "Nothing was changed."),
    "already_reversed": _l("This redemption is already reversed. Nothing was changed."),
    "wrong_branch": _l("This redemption was made at another branch. Nothing was changed."),
    "not_found": _l("There is no such redemption. Nothing was changed."),
}
REVERSAL_OTHER = _l("The reversal was refused. Nothing was changed.")
STOCK_REFUSAL = _l("The count was refused. Nothing was changed.")
NOTHING_COUNTED = _l("No quantity differs from the stock shown: nothing was changed.")


def reversal_refusal(error: ServiceError) -> str:
    return str(REVERSAL_REFUSALS.get(error.code, REVERSAL_OTHER))


# The reasons the service writes itself on the stock changes of redemptions and reversals
# (ledger.service.counter.redemptions), as a supervisor reads them.
REDEMPTION_REASON = re.compile(r"redemption (?P<receipt>\S+)")
REVERSAL_REASON = re.compile(r"reversal of (?P<receipt>\S+): (?P<reason>.*)", re.DOTALL)


def stock_change_reason(change: dict[str, Any]) -> str:
    reason = str(change["reason"])
    if change.get("redemption_id") is None:
        return reason  # a supervisor's or an admin's own words
    if matched := REDEMPTION_REASON.fullmatch(reason):
        return str(_("Redemption %(receipt)s", receipt=matched["receipt"]))
    if matched := REVERSAL_REASON.fullmatch(reason):
        return str(_("Reversal of %(receipt)s: %(reason)s", receipt=matched["receipt"],
                     reason=matched["reason"]))
    return reason
