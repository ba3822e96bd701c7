"""The filter forms of the ledger's lists, read from the query string (a GET changes nothing,
so it carries no CSRF token), and what they ask of the service layer.

Dates are whole days in Beijing time, both ends included: what a person means by "from the 3rd
to the 5th". The service compares moments, so a day becomes [its 00:00, the next day's 00:00).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import request
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, Field, SelectField, StringField
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # stubs: 3.2
from wtforms.validators import Length, Optional, ValidationError

from ledger.console.i18n import TIMEZONE
from ledger.console.ledger_pages.labels import ENTRY_KINDS, REASONS
from ledger.contract.categories import EventType
from ledger.infra.db.models import Platform
from ledger.service.paging import KEY_MAX, Keyset

PAGE_SIZE = 50
CURSOR_ARGUMENT = "before"
# The query's own arguments, not filters: a new filter starts again at the newest.
NOT_FILTERS = (CURSOR_ARGUMENT, "lang")
BEIJING = ZoneInfo(TIMEZONE)
ACTION_LENGTH_MAX = 64
SUBJECT_LENGTH_MAX = 128


class QueryForm(FlaskForm):  # type: ignore[misc]  # Flask-WTF ships no types
    """A filter form filled from the query string."""

    class Meta:
        csrf = False

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(formdata=request.args, **kwargs)

    def asked(self) -> bool:
        """Whether the query asks for anything (the first visit shows everything)."""
        return any(name in request.args for name in self._fields)


class DateRangeForm(QueryForm):
    since = DateField(_l("From (date)"), validators=[Optional()])
    until = DateField(_l("To (date, included)"), validators=[Optional()])

    def validate_until(self, field: Field) -> None:
        if field.data and self.since.data and field.data < self.since.data:
            raise ValidationError(_l("The end date is before the start date."))

    def moments(self) -> tuple[datetime | None, datetime | None]:
        """[the first day's 00:00, the day after the last's 00:00), in UTC."""
        since = _midnight(self.since.data) if self.since.data else None
        until = _midnight(self.until.data + timedelta(days=1)) if self.until.data else None
        return since, until


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=BEIJING).astimezone(UTC)


def _choices(labels: Iterable[tuple[str, Any]]) -> list[SelectChoice]:
    """`All` (no filter), then each code with its label."""
    return [SelectChoice("", _l("All")), *(SelectChoice(code, label) for code, label in labels)]


def _select(label: Any, labels: Iterable[tuple[str, Any]] = ()) -> SelectField:
    return SelectField(label, choices=_choices(labels), default="",  # type: ignore[call-arg]
                       invalid_choice_message=_l("Choose one from the list."))


class EntryFilterForm(DateRangeForm):
    platform = _select(_l("Platform"))
    kind = _select(_l("Kind of entry"), ENTRY_KINDS.items())


class EventFilterForm(DateRangeForm):
    """A platform operator's: their own platform, so no platform to choose; and only the
    kinds a platform sends."""

    kind = _select(_l("Kind of entry"), ((kind, ENTRY_KINDS[kind]) for kind in EventType))


class RejectionFilterForm(DateRangeForm):
    platform = _select(_l("Platform"))
    reason = _select(_l("Reason"), REASONS.items())


class OwnRejectionFilterForm(DateRangeForm):
    reason = _select(_l("Reason"), REASONS.items())


def stripped(text: str | None) -> str | None:
    return text.strip() if text else text


class AuditFilterForm(QueryForm):
    action = StringField(_l("Action"), filters=[stripped],
                         validators=[Optional(), Length(max=ACTION_LENGTH_MAX)])
    subject = StringField(_l("Subject"), filters=[stripped],
                          validators=[Optional(), Length(max=SUBJECT_LENGTH_MAX)])


def platform_choices(platforms: list[Platform]) -> list[SelectChoice]:
    # Unregistered codes appear in rejections (unknown_platform): the filter offers only
    # registered ones, which is what an auditor looks for.
    return _choices((row.code, f"{row.name} ({row.code})") for row in platforms)


def blank_as_none(value: str | None) -> str | None:
    return value or None


@dataclass(frozen=True)
class Pager:
    """Where this page starts and the links to the next (older) one and back to the newest."""

    keyset: Keyset
    arguments: dict[str, str]

    def older(self, cursor: int | None) -> dict[str, Any] | None:
        return None if cursor is None else {**self.arguments, CURSOR_ARGUMENT: cursor}

    def newest(self) -> dict[str, Any] | None:
        return None if self.keyset.cursor is None else dict(self.arguments)


def pager() -> Pager:
    """Newest first, from the cursor in the query (one out of range starts at the newest)."""
    cursor = request.args.get(CURSOR_ARGUMENT, type=int)
    if cursor is not None and not 0 <= cursor <= KEY_MAX:
        cursor = None
    arguments = {name: value for name, value in request.args.items() if name not in NOT_FILTERS}
    return Pager(Keyset(PAGE_SIZE, cursor, newest_first=True), arguments)
