"""The counter's forms: looking a resident up by ID number, and redeeming a gift."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from ledger.service.counter.redemptions import IDEMPOTENCY_KEY_LENGTH_MAX, QUANTITY_MAX

# An ID number has 18 characters; a few more allow for spaces a scanner or a clerk adds.
ID_NUMBER_LENGTH_MAX = 32


class LookupForm(FlaskForm):  # type: ignore[misc]  # Flask-WTF ships no types
    """The ID number only passes through: the page never shows it again (the field is
    emptied before any page is rendered), and the browser is asked not to remember it."""

    id_number = StringField(_l("ID number"), validators=[
        DataRequired(_l("Enter the resident's ID number.")),
        Length(max=ID_NUMBER_LENGTH_MAX, message=_l("An ID number has 18 characters."))],
        render_kw={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "characters",
                   "autofocus": True})
    submit = SubmitField(_l("Look up"))


class RedemptionForm(FlaskForm):  # type: ignore[misc]
    """One gift's form on the resident's page, with the key that makes it redeem once.

    Each gift has its own form on the page: the form is made with the gift's SKU as prefix, so
    that every field's id is unique."""

    key = HiddenField(validators=[DataRequired(), Length(max=IDEMPOTENCY_KEY_LENGTH_MAX)])
    platform = SelectField(_l("Points of"), validate_choice=True)
    quantity = IntegerField(_l("Quantity"), default=1, validators=[
        InputRequired(_l("Enter how many.")),
        NumberRange(1, QUANTITY_MAX, _l("From %(min)s to %(max)s at a time."))],
        render_kw={"inputmode": "numeric"})
    submit = SubmitField(_l("Redeem"))
