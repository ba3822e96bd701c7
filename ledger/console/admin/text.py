"""flask-babel's gettext with a type (flask-babel ships none): what a view says, translated."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext


def _(message: str, **values: Any) -> str:
    return str(gettext(message, **values))
