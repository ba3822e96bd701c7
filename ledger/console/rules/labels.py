"""The words the rules pages show for the service's codes: statuses, steps, habits, conditions,
and the validation problems of a rule-set document, in the reader's language.

The service and the domain speak English to the API and the CLI; a risk officer or a resident
reads 简体中文. Each code gets its message here (the catalogs hold the translations); a code or
problem this table does not know is shown as the service wrote it rather than hidden.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

from ledger.contract.categories import Category
from ledger.infra.db.models import Platform

STATUSES = {
    "draft": _l("Draft"),
    "submitted": _l("Submitted"),
    "approved": _l("Approved"),
    "rejected": _l("Rejected"),
    "superseded": _l("Superseded"),
}

ACTIONS = {
    "drafted": _l("Drafted"),
    "submitted": _l("Submitted"),
    "approved": _l("Approved"),
    "rejected": _l("Rejected"),
}

# The habits a platform awards points for (SPEC §4.2), as a villager would name them.
CATEGORIES = {
    Category.GARBAGE_SORTING: _l("Garbage sorting"),
    Category.ENVIRONMENT_HYGIENE: _l("Environment and hygiene"),
    Category.VOLUNTEERING: _l("Volunteering"),
    Category.SAFETY_PATROL: _l("Safety patrol"),
    Category.SAFETY_EDUCATION: _l("Safety education"),
    Category.KNOWLEDGE_QUIZ: _l("Knowledge quiz"),
    Category.CIVIC_PARTICIPATION: _l("Civic participation"),
    Category.MUTUAL_AID: _l("Mutual aid"),
    Category.HONORS: _l("Honours"),
    Category.OTHER: _l("Other"),
}

CONDITIONS = {
    "min_score": _l("Score at least"),
    "min_active_months": _l("Active months at least"),
    "max_deductions": _l("Deductions at most"),
}


def status_name(status: str) -> str:
    return str(STATUSES.get(status, status))


def action_name(action: str) -> str:
    return str(ACTIONS.get(action, action))


def category_name(category: str) -> str:
    try:
        return str(CATEGORIES[Category(category)])
    except (ValueError, KeyError):
        return category


def condition_name(condition: str) -> str:
    return str(CONDITIONS.get(condition, condition))


@dataclass(frozen=True)
class Town:
    """A platform as people know it: its Chinese name and its township."""

    code: str
    name: str
    township: str

    @property
    def label(self) -> str:
        if not self.township:
            return self.name
        return str(_l("%(name)s (%(township)s)", name=self.name, township=self.township))


def towns(platforms: list[Platform]) -> dict[str, Town]:
    return {row.code: Town(row.code, row.name, row.township) for row in platforms}


def town_label(known: dict[str, Town], code: str) -> str:
    town = known.get(code)
    return code if town is None else town.label


# What ledger.domain.ruleset says of a document, matched whole, with its figures kept.
_PROBLEMS: tuple[tuple[re.Pattern[str], LazyString], ...] = tuple(
    (re.compile(pattern), message) for pattern, message in (
        (r"a rule set is a JSON object", _l("A rule set is a JSON object { … }.")),
        (r"unknown field", _l("This field is not part of a rule set.")),
        (r"missing required field", _l("This field is required.")),
        (r"must be an integer", _l("Must be a whole number.")),
        (r"must be between (?P<low>\d+) and (?P<high>\d+)",
         _l("Must be between %(low)s and %(high)s.")),
        (r"must not be negative", _l("Must not be negative.")),
        (r"must be a non-empty string of at most (?P<count>\d+) characters",
         _l("Must be a text of 1 to %(count)s characters.")),
        (r'must be a decimal string such as "(?P<value>[^"]*)", not a JSON number',
         _l('Write the weight in quotes, as a decimal text such as "%(value)s".')),
        (r'must be a non-negative decimal string below 1000, such as "1\.5"',
         _l('Must be a decimal text from 0 to below 1000, such as "1.5".')),
        (r"unknown platform", _l("No platform has this code.")),
        (r"unknown category", _l("No habit (category) has this code.")),
        (r'must be an object such as (?P<example>\{.*\})',
         _l("Must be an object such as %(example)s.")),
        (r"must be an object \(empty: always\)",
         _l("Must be an object of conditions ({} applies to everyone).")),
        (r"must be an object", _l("Must be an object { … }.")),
        (r"must be a list of 1 to (?P<count>\d+) tiers",
         _l("Must be a list of 1 to %(count)s tiers.")),
        (r"can never match: (?P<earlier>tiers\[\d+\]) matches every resident it would",
         _l("Can never apply: %(earlier)s comes first and applies to every resident this "
            "tier would.")),
        (r"can never match: the window has only (?P<months>\d+) months",
         _l("Can never apply: the window has only %(months)s months.")),
        (r'the last tier must be unconditional \("when": \{\}\)',
         _l('The last tier must apply to everyone ("when": {}).')),
    ))


def problem_message(message: str) -> str:
    """A validation problem of the domain in the reader's language."""
    for pattern, translated in _PROBLEMS:
        match = pattern.fullmatch(message)
        if match is not None:
            return str(translated) % match.groupdict()
    return message
