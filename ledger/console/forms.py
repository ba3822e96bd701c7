"""Forms shared by the console's areas (Flask-WTF: every form carries its CSRF token)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, Length

# Long enough for any username and any password the policy allows; no more is read.
USERNAME_LENGTH_MAX = 64
PASSWORD_LENGTH_MAX = 1024


class SignInForm(FlaskForm):  # type: ignore[misc]  # Flask-WTF ships no types
    username = StringField(_l("Username"), validators=[
        DataRequired(_l("Enter your username.")), Length(max=USERNAME_LENGTH_MAX)],
        render_kw={"autocomplete": "username", "autofocus": True})
    password = PasswordField(_l("Password"), validators=[
        DataRequired(_l("Enter your password.")), Length(max=PASSWORD_LENGTH_MAX)],
        render_kw={"autocomplete": "current-password"})
    submit = SubmitField(_l("Sign in"))


class SignOutForm(FlaskForm):  # type: ignore[misc]
    submit = SubmitField(_l("Sign out"))
