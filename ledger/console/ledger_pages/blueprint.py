"""The ledger area's blueprint, its stylesheet, and what its templates share (also the
platform operator's pages, which show the same entries and rejections)."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint
from flask_babel import lazy_gettext as _l

from ledger.console.ledger_pages.labels import TEMPLATE_HELPERS

# Times to the second in Beijing time: an auditor compares them with logs and receipts.
MOMENT_FORMAT = "yyyy-MM-dd HH:mm:ss"
SHORT_HASH_LENGTH = 16
SHORT_RESIDENT_LENGTH = 12

blp = Blueprint("ledger", __name__, url_prefix="/ledger", template_folder="templates",
                static_folder="static", static_url_path="/static")

# The area's own navigation, shown above each of its pages.
PLACES = (
    ("console.ledger.home", _l("Overview")),
    ("console.ledger.entries", _l("Entries")),
    ("console.ledger.rejections", _l("Rejections")),
    ("console.ledger.platforms", _l("Platforms and gaps")),
    ("console.ledger.audit_trail", _l("Audit trail")),
    ("console.ledger.decision", _l("Decisions")),
    ("console.ledger.status", _l("System status")),
)





def shortened(text: str | None, length: int) -> str:
    """The start of a long hex value, enough to tell rows apart; the full value is on the
    entry's own page."""
    if not text:
        return ""
    return text if len(text) <= length else text[:length] + "…"


def as_json(value: Any, indent: int | None = None) -> str:
    """A stored document as text, its Chinese left readable (autoescaping still applies)."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, indent=indent)


def body_text(body: bytes) -> str:
    """A kept body as text; bytes that are not UTF-8 (a malformed_json body may hold any)
    show as the replacement character."""
    return body.decode("utf-8", errors="replace")


def template_helpers() -> dict[str, Any]:
    return {**TEMPLATE_HELPERS, "moment_format": MOMENT_FORMAT, "as_json": as_json,
            "body_text": body_text, "ledger_places": PLACES,
            "short_hash": lambda text: shortened(text, SHORT_HASH_LENGTH),
            "short_resident": lambda text: shortened(text, SHORT_RESIDENT_LENGTH)}


blp.context_processor(template_helpers)
