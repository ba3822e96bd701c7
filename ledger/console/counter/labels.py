"""What the counter says, in the user's language, about entries, ID numbers and refusals.

The service layer speaks English to machines (a problem's `code`, its `figures`); a clerk reads
these sentences instead, with the same figures.
"""

from __future__ import annotations

from flask_babel import LazyString, format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ledger.contract.categories import Category, EntryKind
from ledger.contract.resident_id import InvalidIdNumber
from ledger.service.errors import ServiceError

ENTRY_KINDS = {
    EntryKind.AWARDED: _l("Awarded"),
    EntryKind.DEDUCTED: _l("Deducted"),
    EntryKind.REVOKED: _l("Award withdrawn"),
    EntryKind.REDEEMED: _l("Redeemed at a counter"),
    EntryKind.REDEMPTION_REVERSED: _l("Redemption reversed"),
}

CATEGORIES = {
    Category.GARBAGE_SORTING: _l("Garbage sorting"),
    Category.ENVIRONMENT_HYGIENE: _l("Environment and hygiene"),
    Category.VOLUNTEERING: _l("Volunteering"),
    Category.SAFETY_PATROL: _l("Safety patrol"),
    Category.SAFETY_EDUCATION: _l("Safety education"),
    Category.KNOWLEDGE_QUIZ: _l("Knowledge quiz"),
    Category.CIVIC_PARTICIPATION: _l("Taking part in village affairs"),
    Category.MUTUAL_AID: _l("Helping neighbours"),
    Category.HONORS: _l("Honours"),
    Category.OTHER: _l("Other"),
}

# ledger.contract.resident_id says what is wrong with a number in English (and never repeats
# the number); each of its sentences, as a clerk reads it.
ID_NUMBER_PROBLEMS = {
    "an ID number has 18 characters": _l("An ID number has 18 characters."),
    "an ID number is 17 digits followed by a digit or X":
        _l("An ID number is 17 digits followed by a digit or X."),
    "the ID number's birth date is not a valid date":
        _l("The birth date in this ID number is not a real date. Check the number."),
    "the ID number's birth date is out of range":
        _l("The birth date in this ID number is not possible. Check the number."),
    "the ID number's check character is wrong":
        _l("The last character does not match the others: a digit is probably mistyped."),
}
ID_NUMBER_PROBLEM_OTHER = _l("This is not a valid resident ID number. Check the number.")


def entry_kind(kind: str) -> str:
    label = ENTRY_KINDS.get(EntryKind(kind)) if kind in set(EntryKind) else None
    return kind if label is None else str(label)


def category(code: str | None) -> str:
    if code is None:
        return ""
    label = CATEGORIES.get(Category(code)) if code in set(Category) else None
    return code if label is None else str(label)


def id_number_problem(error: InvalidIdNumber) -> LazyString:
    return ID_NUMBER_PROBLEMS.get(str(error), ID_NUMBER_PROBLEM_OTHER)


def refusal(error: ServiceError, platform_name: str) -> str:
    """A redemption refused, in a sentence with its figures."""
    figures = {name: format_decimal(value) for name, value in error.figures.items()
               if isinstance(value, int)}
    if error.code == "insufficient_points":
        return str(_("Not enough points of %(platform)s: the balance is %(balance)s, the gifts "
                     "cost %(cost)s. Nothing was redeemed.", platform=platform_name, **figures))
    if error.code == "insufficient_stock":
        return str(_("Not enough in stock at this branch: %(in_stock)s left, %(quantity)s "
                     "asked. Nothing was redeemed.", **figures))
    return str(REFUSALS.get(error.code, REFUSAL_OTHER))


REFUSALS = {
    "gift_inactive": _l("This gift is no longer given out. Nothing was redeemed."),
    "idempotency_key_reused": _l(
        "This form was already used for another redemption. Nothing more was redeemed. "
        "Open the resident's page again to start a new redemption."),
    "unknown_platform": _l("These points are from a platform the ledger does not know. "
                           "Nothing was redeemed."),
    "unknown_sku": _l("This gift is not in the catalog. Nothing was redeemed."),
    "wrong_branch": _l("You serve at another branch. Nothing was redeemed."),
}
REFUSAL_OTHER = _l("The redemption was refused. Nothing was redeemed.")
