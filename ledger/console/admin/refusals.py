"""A refusal of the service layer, said in the user's language where the admin looks for it.

The service decides (a code is malformed, a username taken, the last admin stays one) and names
the field it refuses (`ServiceError.errors`) or the case (`code`); this module only says it in
words, beside that field of the form or at the top of the page. Nothing is changed on a refusal:
the change's transaction is rolled back before the page is drawn again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from wtforms import Field

from ledger.console.admin.text import _
from ledger.service.errors import Conflict, Forbidden, InvalidInput, NotFound, ServiceError
from ledger.service.passwords import PasswordRule

STATUS_OF: Mapping[type[ServiceError], int] = {
    NotFound: 404, Conflict: 409, InvalidInput: 422, Forbidden: 403}


def status_of(error: ServiceError) -> int:
    return next((status for kind, status in STATUS_OF.items() if isinstance(error, kind)), 400)


@dataclass(frozen=True)
class Explanation:
    """What to say of each refusal one form can meet.

    `fields`: a field the service refused (its name in `errors`) → what to say beside the form's
    field of the same name. `codes`: a refusal's code → the form field to say it beside (None:
    at the top of the page) and what to say.
    """

    fields: Mapping[str, str] = field(default_factory=dict)
    codes: Mapping[str, tuple[str | None, str]] = field(default_factory=dict)


def explain(error: ServiceError, form: Any, explanation: Explanation) -> str:
    """Put the refusal beside its field when it has one; what the top of the page says."""
    refused = [name for name in (error.errors or {}) if name in explanation.fields]
    for name in refused:
        beside(form[name], explanation.fields[name])
    if refused:
        return _("Correct what is shown beside the fields.")
    if error.code in explanation.codes:
        where, message = explanation.codes[error.code]
        if where is None:
            return message
        beside(form[where], message)
        return _("Correct what is shown beside the fields.")
    return _("The change was refused.")


def beside(input_field: Field, message: str) -> None:
    input_field.errors = [*input_field.errors, message]


def password_problem(error: ServiceError) -> str:
    """The password policy's refusal (the rule broken is among the refusal's figures)."""
    rule = error.figures.get("rule")
    if rule == PasswordRule.TOO_SHORT:
        return _("A password has at least %(length)s characters.",
                 length=error.figures.get("length_min"))
    if rule == PasswordRule.TOO_LONG:
        return _("A password has at most %(length)s characters.",
                 length=error.figures.get("length_max"))
    if rule == PasswordRule.CONTAINS_USERNAME:
        return _("A password must not contain the username.")
    return _("This password is one of the most common ones: choose another.")
