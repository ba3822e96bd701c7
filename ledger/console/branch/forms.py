"""The supervisor's forms: reversing a redemption, counting stock in, choosing a day."""

from __future__ import annotations

from collections.abc import Iterable

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, IntegerField, StringField, SubmitField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from ledger.service.counter.catalog import REASON_LENGTH_MAX, STOCK_QUANTITY_MAX

COUNT_FIELD_PREFIX = "count-"
SEEN_FIELD_PREFIX = "seen-"
REASON_TOO_LONG = _l("At most %(max)s characters.")


class ReversalForm(FlaskForm):  # type: ignore[misc]  # Flask-WTF ships no types
    """One per redemption of the day, made with the redemption's id as prefix."""

    reason = StringField(_l("Reason"), validators=[
        DataRequired(_l("A reversal needs its reason.")),
        Length(max=REASON_LENGTH_MAX, message=REASON_TOO_LONG)])
    submit = SubmitField(_l("Reverse"))


class StockCountForm(FlaskForm):  # type: ignore[misc]
    """The quantity counted of each gift, and one reason for the whole count. The gifts'
    fields are added per page (`stock_count_form`), named after their SKU."""

    reason = StringField(_l("Reason"), validators=[
        DataRequired(_l("Say why the stock changes (a delivery, a stocktake).")),
        Length(max=REASON_LENGTH_MAX, message=REASON_TOO_LONG)],
        render_kw={"placeholder": _l("for example: delivery from head office")})
    submit = SubmitField(_l("Record the count"))

    def changes(self) -> dict[str, int]:
        """SKU → quantity counted, for the gifts whose count differs from the quantity the
        page showed: a redemption made meanwhile is not undone by a field left as it was."""
        changed = {}
        for name, field in self._fields.items():
            if not name.startswith(COUNT_FIELD_PREFIX) or field.data is None:
                continue
            sku = name.removeprefix(COUNT_FIELD_PREFIX)
            seen = self._fields.get(SEEN_FIELD_PREFIX + sku)
            if seen is None or str(field.data) != (seen.data or "").strip():
                changed[sku] = int(field.data)
        return changed


def stock_count_form(gifts: Iterable[tuple[str, str]], quantities: dict[str, int],
                     read_request: bool) -> StockCountForm:
    """A count form with one field per gift (sku, name), showing today's quantities, or,
    `read_request`, what the supervisor sent."""

    class CountForm(StockCountForm):
        pass

    for sku, name in gifts:
        shown = quantities.get(sku, 0)
        setattr(CountForm, COUNT_FIELD_PREFIX + sku, IntegerField(name, validators=[
            InputRequired(_l("Enter the quantity counted (0 if none).")),
            NumberRange(0, STOCK_QUANTITY_MAX, _l("From %(min)s to %(max)s."))],
            default=shown, render_kw={"inputmode": "numeric"}))
        setattr(CountForm, SEEN_FIELD_PREFIX + sku, HiddenField(default=str(shown)))
    return CountForm() if read_request else CountForm(formdata=None)


class DayForm(FlaskForm):  # type: ignore[misc]
    """The day of a reconciliation (a GET form: it changes nothing, so no CSRF token)."""

    class Meta:
        csrf = False

    date = DateField(_l("Day"), format="%Y-%m-%d", validators=[
        InputRequired(_l("Choose a day."))])
    submit = SubmitField(_l("Show"))
