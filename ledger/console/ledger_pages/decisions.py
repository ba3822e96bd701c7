"""A decision's replay: the credit terms as they were given, their explanation, and whether
recomputing them from the entries up to the decision's ledger seq agrees (SPEC §8)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from flask import render_template
from flask_babel import lazy_gettext as _l
from wtforms import Field, StringField
from wtforms.validators import DataRequired, ValidationError

from ledger.app_context import current_ledger
from ledger.console.access import page
from ledger.console.ledger_pages.blueprint import blp
from ledger.console.ledger_pages.filters import QueryForm
from ledger.service.errors import NotFound
from ledger.service.rules import terms

DECISION_ID_LENGTH_MAX = 64


class DecisionForm(QueryForm):
    decision_id = StringField(_l("Decision ID"), validators=[
        DataRequired(_l("Enter the decision's ID."))],
        render_kw={"autocomplete": "off", "spellcheck": "false"})

    def validate_decision_id(self, field: Field) -> None:
        text = (field.data or "").strip()
        try:
            if len(text) > DECISION_ID_LENGTH_MAX:
                raise ValueError(text)
            # Decisions are kept under the lowercase form of their UUID.
            field.data = str(uuid.UUID(text))
        except ValueError:
            raise ValidationError(_l("A decision ID looks like "
                                     "1b4e28ba-2fa1-41d2-883f-0016d3cca427.")) from None


@blp.route("/decisions")
@page("auditor")
def decision() -> str:
    form = DecisionForm()
    replayed: dict[str, Any] | None = None
    if form.asked() and form.validate():
        try:
            with current_ledger().sessions() as session:
                replayed = terms.replay(session, str(form.decision_id.data))
        except NotFound:
            form.decision_id.errors = [_l("No decision has this ID.")]
    moments = {} if replayed is None else {
        name: datetime.fromisoformat(replayed[name]) for name in ("asked_at", "as_of")}
    return render_template("ledger/decision.html", form=form, decision=replayed,
                           moments=moments)
