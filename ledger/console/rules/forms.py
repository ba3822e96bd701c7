"""The forms of the rules pages (Flask-WTF: each POST form carries its CSRF token)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    DateTimeLocalField,
    HiddenField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)

# WTForms 3.3's choices (tuples are deprecated); types-WTForms does not know it yet.
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]
from wtforms.validators import DataRequired, Length, Optional, Regexp, ValidationError

from ledger.contract.envelope import RESIDENT_PATTERN
from ledger.contract.resident_id import ID_NUMBER_LENGTH
from ledger.service.rules.lifecycle import COMMENT_LENGTH_MAX

CONSOLE_ZONE = ZoneInfo("Asia/Shanghai")  # the zone every console page shows times in
# As the CLI reads a document: no rule set comes near it (the default is about 2 KiB).
DOCUMENT_SIZE_MAX_BYTES = 64 * 1024
DECISION_ID_PATTERN = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
SOURCE_ACTIVE, SOURCE_DEFAULT, SOURCE_FILE = "active", "default", "file"
# An ID number with a few spaces typed around it is still read; anything longer is not one.
ID_NUMBER_LENGTH_MAX = ID_NUMBER_LENGTH + 8


def _comment_field() -> TextAreaField:
    return TextAreaField(_l("Comment"), validators=[
        DataRequired(_l("Write a comment: it is kept with the step in the audit trail.")),
        Length(max=COMMENT_LENGTH_MAX,
               message=_l("At most %(max)d characters.", max=COMMENT_LENGTH_MAX))],
        render_kw={"rows": 2})


class NewDraftForm(FlaskForm):  # type: ignore[misc]  # Flask-WTF ships no types
    source = RadioField(_l("Start from"), default=SOURCE_ACTIVE, choices=[
        SelectChoice(SOURCE_ACTIVE, _l("The active version")),
        SelectChoice(SOURCE_DEFAULT, _l("The default rule set")),
        SelectChoice(SOURCE_FILE, _l("A file (JSON)"))])
    file = FileField(_l("File"), render_kw={"accept": ".json,application/json"})
    submit = SubmitField(_l("New draft"))

    def validate_file(self, field: FileField) -> None:
        if self.source.data == SOURCE_FILE and not field.data:
            raise ValidationError(_l("Choose the file to start from."))


class EditorForm(FlaskForm):  # type: ignore[misc]
    document = TextAreaField(_l("Rule set (JSON)"), validators=[
        DataRequired(_l("The rule set is empty.")),
        Length(max=DOCUMENT_SIZE_MAX_BYTES,
               message=_l("At most %(max)d characters.", max=DOCUMENT_SIZE_MAX_BYTES))],
        render_kw={"rows": 32, "spellcheck": "false", "autocapitalize": "off"})
    comment = _comment_field()
    replaces = HiddenField()
    submit = SubmitField(_l("Save draft"))


class StepForm(FlaskForm):  # type: ignore[misc]
    """Submit, approve or reject: a comment is kept with each."""

    comment = _comment_field()

    def __init__(self, action: str, **options: Any) -> None:
        super().__init__(prefix=action, **options)
        self.action = action


class ApproveForm(StepForm):
    """Approval may be scheduled: a time in Asia/Shanghai, as the officer reads the clock."""

    effective_from = DateTimeLocalField(
        _l("Takes effect"), format="%Y-%m-%dT%H:%M", validators=[Optional()],
        description=_l("Leave empty to take effect now. Beijing time."))

    def effective_from_utc(self) -> datetime | None:
        chosen = self.effective_from.data
        return None if chosen is None else chosen.replace(tzinfo=CONSOLE_ZONE).astimezone(UTC)


def step_form(action: str, **options: Any) -> StepForm:
    return ApproveForm(action, **options) if action == "approve" else StepForm(action, **options)


class SimulateForm(FlaskForm):  # type: ignore[misc]
    submit = SubmitField(_l("Simulate"))


class DiffForm(FlaskForm):  # type: ignore[misc]
    """Read from the query string: a diff changes nothing."""

    class Meta:
        csrf = False

    against = SelectField(_l("Compare with version"), coerce=int, validators=[Optional()])


class DecisionLookupForm(FlaskForm):  # type: ignore[misc]
    class Meta:
        csrf = False

    decision_id = StringField(_l("Decision id"), validators=[
        DataRequired(_l("Enter the decision's id.")),
        Regexp(f"^{DECISION_ID_PATTERN}$", message=_l("A decision id looks like "
                                               "0f8b6c52-1d2e-4c4e-9a57-3b8e4f2a9d10."))],
        filters=[lambda text: text.strip().lower() if isinstance(text, str) else text],
        render_kw={"autocomplete": "off", "spellcheck": "false"})
    submit = SubmitField(_l("Show"))


class ResidentForm(FlaskForm):  # type: ignore[misc]
    """A resident by ID number (read from the POST body, never put back in the page) or by
    pseudonym."""

    id_number = StringField(_l("ID number"), validators=[Optional(),
                                                          Length(max=ID_NUMBER_LENGTH_MAX)],
                            render_kw={"autocomplete": "off", "spellcheck": "false",
                                       "inputmode": "text"})
    resident = StringField(_l("Pseudonym"), validators=[
        Optional(), Regexp(f"^{RESIDENT_PATTERN.pattern}$",
                           message=_l("A pseudonym is 64 digits and letters a-f."))],
        filters=[lambda text: text.strip().lower() if isinstance(text, str) else text],
        render_kw={"autocomplete": "off", "spellcheck": "false"})
    submit = SubmitField(_l("Look up"))

    def validate(self, extra_validators: Any = None) -> bool:
        if not super().validate(extra_validators):
            return False
        if not self.id_number.data and not self.resident.data:
            self.id_number.errors = [_l("Enter the resident's ID number (or their pseudonym).")]
            return False
        return True


class ExplanationForm(FlaskForm):  # type: ignore[misc]
    id_number = StringField(_l("ID number"), validators=[
        DataRequired(_l("Enter the resident's ID number.")), Length(max=ID_NUMBER_LENGTH_MAX)],
        render_kw={"autocomplete": "off", "spellcheck": "false"})
    submit = SubmitField(_l("Explain"))
