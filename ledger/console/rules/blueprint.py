"""The rules area's blueprint, its stylesheet, and what its templates share."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from flask import Blueprint
from flask_babel import format_datetime
from flask_babel import gettext as _

from ledger.app_context import current_ledger
from ledger.console.access import current_principal
from ledger.console.rules.labels import (
    Town,
    action_name,
    category_name,
    condition_name,
    status_name,
    town_label,
    towns,
)
from ledger.service.registry import list_platforms
from ledger.service.rules.lifecycle import Actor

MOMENT_FORMAT = "yyyy-MM-dd HH:mm"

blp = Blueprint("rules", __name__, url_prefix="/rules", template_folder="templates",
                static_folder="static", static_url_path="/static")


def actor() -> Actor:
    principal = current_principal()
    return Actor(principal.username, principal.role)


def now() -> datetime:
    return current_ledger().clock()


def known_towns() -> dict[str, Town]:
    with current_ledger().sessions() as session:
        return towns(list_platforms(session))


def moment(text: str | None) -> str:
    """An RFC 3339 time of a service document, in Asia/Shanghai (the console's zone)."""
    if not text:
        return ""
    return str(format_datetime(datetime.fromisoformat(text), MOMENT_FORMAT))


def json_value(value: object) -> str:
    """A value of a diff: JSON text, or a word for a member only on the other side."""
    if value is None:
        return str(_("(absent)"))
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


@blp.context_processor
def shared() -> dict[str, Any]:
    return {"status_name": status_name, "action_name": action_name,
            "category_name": category_name, "condition_name": condition_name,
            "town_label": town_label, "moment": moment, "json_value": json_value}
