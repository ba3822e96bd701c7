"""The admin area's forms (Flask-WTF: each carries its CSRF token).

The forms only say what a person must fill in; what a valid code, username, password or key is
stays with the service layer, whose refusals `refusals` puts beside these fields. Choices
(roles, branches, platforms) are not checked here either (`validate_choice=False`): a value
that is not one of them is the service's to refuse.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    HiddenField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
)
from wtforms.validators import EqualTo, InputRequired, Length, Optional

from ledger.console.forms import PASSWORD_LENGTH_MAX, USERNAME_LENGTH_MAX
from ledger.service.access import TOKEN_TTL_DAYS_DEFAULT

# What a field reads at most; the service's own limits are smaller and explained beside it.
CODE_LENGTH_MAX = 64
NAME_LENGTH_MAX = 400
PUBLIC_KEY_LENGTH_MAX = 200


class WholeNumberField(IntegerField):
    """An integer field whose complaint about a non-number is in the user's language."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(_l("Enter a whole number.")) from None


def _stripped(value: Any) -> Any:
    """Spaces around a pasted code or name are no part of it."""
    return value.strip() if isinstance(value, str) else value


def _required(message: Any) -> list[Any]:
    return [InputRequired(message)]


class PlatformForm(FlaskForm):  # type: ignore[misc]  # Flask-WTF ships no types
    code = StringField(_l("Code"), filters=[_stripped], validators=[
        *_required(_l("Enter the platform's code.")), Length(max=CODE_LENGTH_MAX)])
    name = StringField(_l("Name"), filters=[_stripped], validators=[
        *_required(_l("Enter the platform's name.")), Length(max=NAME_LENGTH_MAX)])
    township = StringField(_l("Town or street"), filters=[_stripped], validators=[
        *_required(_l("Enter the town or street that runs it.")), Length(max=NAME_LENGTH_MAX)])


class KeyForm(FlaskForm):  # type: ignore[misc]
    public_key = StringField(_l("Public key"), filters=[_stripped], validators=[
        *_required(_l("Paste the platform's public key.")),
        Length(max=PUBLIC_KEY_LENGTH_MAX)], render_kw={"autocomplete": "off",
                                                       "spellcheck": "false"})


class KeyRevocationForm(FlaskForm):  # type: ignore[misc]
    # Which of the two buttons was pressed: "retired" or "compromised".
    kind = HiddenField()


class BranchForm(FlaskForm):  # type: ignore[misc]
    code = StringField(_l("Code"), filters=[_stripped], validators=[
        *_required(_l("Enter the branch's code.")), Length(max=CODE_LENGTH_MAX)])
    name = StringField(_l("Name"), filters=[_stripped], validators=[
        *_required(_l("Enter the branch's name.")), Length(max=NAME_LENGTH_MAX)])


# A role comes with its branch (tellers, supervisors) or its platform (a platform's operator):
# a new user's and a role change's. The choices are the page's to fill in.
def _role_field() -> Any:
    return SelectField(_l("Role"), validate_choice=False,
                       validators=_required(_l("Choose a role.")))


def _branch_field() -> Any:
    return SelectField(_l("Branch"), validate_choice=False)


def _platform_field() -> Any:
    return SelectField(_l("Platform"), validate_choice=False)


class UserForm(FlaskForm):  # type: ignore[misc]
    username = StringField(_l("Username"), filters=[_stripped], validators=[
        *_required(_l("Enter a username.")), Length(max=USERNAME_LENGTH_MAX)],
        render_kw={"autocomplete": "off", "spellcheck": "false"})
    role = _role_field()
    branch = _branch_field()
    platform = _platform_field()
    password = PasswordField(_l("Console password"), validators=[
        Optional(), Length(max=PASSWORD_LENGTH_MAX)], render_kw={"autocomplete": "new-password"})
    repeated = PasswordField(_l("The password again"), validators=[
        EqualTo("password", _l("The two passwords differ."))],
        render_kw={"autocomplete": "new-password"})


class RoleForm(FlaskForm):  # type: ignore[misc]
    role = _role_field()
    branch = _branch_field()
    platform = _platform_field()


class PasswordForm(FlaskForm):  # type: ignore[misc]
    password = PasswordField(_l("New console password"), validators=[
        *_required(_l("Enter the new password.")), Length(max=PASSWORD_LENGTH_MAX)],
        render_kw={"autocomplete": "new-password"})
    repeated = PasswordField(_l("The new password again"), validators=[
        EqualTo("password", _l("The two passwords differ."))],
        render_kw={"autocomplete": "new-password"})


class DisableForm(FlaskForm):  # type: ignore[misc]
    """Disable or enable: the page shows the one that applies."""


class TokenForm(FlaskForm):  # type: ignore[misc]
    username = StringField(_l("User"), filters=[_stripped], validators=[
        *_required(_l("Enter the username.")), Length(max=USERNAME_LENGTH_MAX)],
        render_kw={"autocomplete": "off", "spellcheck": "false"})
    ttl_days = WholeNumberField(_l("Valid for (days)"), default=TOKEN_TTL_DAYS_DEFAULT,
                                validators=_required(_l("Enter a number of days.")))
    # One key per form shown: sending the same form again makes no second token.
    form_key = HiddenField()


class TokenRevocationForm(FlaskForm):  # type: ignore[misc]
    """Revoke one token (its id is in the address)."""


class GiftForm(FlaskForm):  # type: ignore[misc]
    sku = StringField(_l("SKU"), filters=[_stripped], validators=[
        *_required(_l("Enter the gift's SKU.")), Length(max=CODE_LENGTH_MAX)])
    name = StringField(_l("Name"), filters=[_stripped], validators=[
        *_required(_l("Enter the gift's name.")), Length(max=NAME_LENGTH_MAX)])
    points_cost = WholeNumberField(_l("Cost in points"),
                                   validators=_required(_l("Enter the cost in points.")))


class GiftActivationForm(FlaskForm):  # type: ignore[misc]
    """Offer a gift at the counter again, or take it off (the choice is in the address)."""
