"""How long an inbox keeps the exports it imported (SPEC §10): they hold names and ID numbers,
so they go after POINTSLEDGER_ADAPTER_KEEP_DAYS; their reports (masked) stay."""

from __future__ import annotations

import os
from collections.abc import Mapping

KEEP_DAYS_VARIABLE = "POINTSLEDGER_ADAPTER_KEEP_DAYS"
KEEP_DAYS_DEFAULT = 30
# Ten years: beyond that a value is a typo (seconds, a date), not a retention period.
KEEP_DAYS_MAX = 3650
SECONDS_PER_DAY = 86_400


def keep_days_from_environment(environ: Mapping[str, str] | None = None) -> int:
    """The retention in whole days; a bad value is a ValueError naming the variable, for the
    adapter to stop at its start rather than keep files forever or delete them at once."""
    env = os.environ if environ is None else environ
    value = env.get(KEEP_DAYS_VARIABLE, "").strip()
    if not value:
        return KEEP_DAYS_DEFAULT
    if not value.isascii() or not value.isdigit() or int(value) > KEEP_DAYS_MAX:
        raise ValueError(f"{KEEP_DAYS_VARIABLE} must be a whole number of days from 0 to "
                         f"{KEEP_DAYS_MAX}, not {value!r}")
    return int(value)
