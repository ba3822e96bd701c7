"""Untrusted text as the adapters show it in quarantine details, reports and log lines.

A platform's values and its file names may hold ID numbers, and file names may hold newlines or
terminal escapes. Shown quoted the way `repr` quotes them, one value can neither forge a log line
nor break out of its place in a detail; masked (SPEC §4.5), no ID number reaches a log or the
quarantine, whatever column of the record it stood in. (Every log line of the process is masked
once more as it is written: ledger.contract.redaction.)
"""

from __future__ import annotations

from ledger.contract.personal_data import mask_id_numbers


def quoted(value: object) -> str:
    """`repr` of the value with every ID-number-shaped run masked.

    Masked before quoting too: `repr` writes some separators as escapes (an ideographic space
    becomes `\\u3000`), which would hide a spaced number from the mask."""
    shown = mask_id_numbers(value) if isinstance(value, str) else value
    return mask_id_numbers(repr(shown))
