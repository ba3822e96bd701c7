"""Resident ID numbers in text that the ledger or an adapter keeps or logs (SPEC §4.1, §4.5).

A resident ID number is 17 digits and a check character (GB 11643). Outside the fields meant for
it, it turns up the way people write it: with spaces (`330109 19800101 1234`), in full-width
digits from a Chinese input method, or, in a JSON body, as `\\u0033` escapes. Anything of that
shape counts, whether or not its check character or birth date is right: a mistyped number is
still somebody's. Over-matching costs little (a long number in a refused body is masked, a memo
holding one is refused); under-matching puts a number where it can never be erased.

Masking keeps the first six digits (the region) and the last four characters, as Chinese banks
print a number on a receipt, so that a person can still tell two records apart.
"""

from __future__ import annotations

import re

# One digit, as written plainly, in full width (U+FF10-FF19), or as a JSON escape of either.
_DIGIT = r"(?:[0-9０-９]|\\u003[0-9]|\\uff1[0-9])"
_CHECK = r"(?:[0-9０-９xＸｘ]|\\u003[0-9]|\\uff1[0-9]|\\u0058|\\u0078|\\uff38|\\uff58)"
# At most one separator between two characters: a space (also ideographic), or a hyphen, as
# such or escaped (JSON, or Python's repr of a string).
_ONE_SEPARATOR = r"(?:[ \u3000-]|\\u0020|\\u3000|\\u002d)"
_SEPARATOR = rf"{_ONE_SEPARATOR}?"
_NO_DIGIT_BEFORE = r"(?<![0-9０-９])(?<!\\u003[0-9])(?<!\\uff1[0-9])"
# Only a digit right beside it makes a run part of a longer number; one a space away does not
# (`330109198001011234 1`), which masks a grouped longer number now and then: over-masking is
# the side to err on.
_NO_DIGIT_AFTER = rf"(?!{_DIGIT})"

ID_NUMBER_SHAPE = re.compile(
    rf"{_NO_DIGIT_BEFORE}{_DIGIT}(?:{_SEPARATOR}{_DIGIT}){{16}}{_SEPARATOR}{_CHECK}"
    rf"{_NO_DIGIT_AFTER}",
    re.IGNORECASE,
)
# The pieces of a matched run: a separator (escapes hold digits too, so they go first) or one of
# its 18 characters.
_PIECE = re.compile(rf"(?P<separator>{_ONE_SEPARATOR})|(?P<character>{_CHECK})", re.IGNORECASE)

KEPT_AT_START = 6
KEPT_AT_END = 4
ID_NUMBER_CHARACTERS = 18
MASK = "*"


def holds_id_number(text: str) -> bool:
    """True when some run of the text is shaped like a resident ID number."""
    return ID_NUMBER_SHAPE.search(text) is not None


def mask_id_numbers(text: str) -> str:
    """The text with every ID-number-shaped run masked: `330109********1234`."""
    return ID_NUMBER_SHAPE.sub(_masked_run, text)


def mask_id_numbers_in_bytes(data: bytes) -> bytes:
    """The same over bytes that may not be UTF-8: bytes that are not stay exactly as they were
    (digits are ASCII, and no UTF-8 or GBK multi-byte character holds an ASCII byte)."""
    text = data.decode("utf-8", errors="surrogateescape")
    masked = mask_id_numbers(text)
    return data if masked == text else masked.encode("utf-8", errors="surrogateescape")


def _masked_run(match: re.Match[str]) -> str:
    pieces: list[str] = []
    index = 0
    for piece in _PIECE.finditer(match.group(0)):
        if piece.group("separator") is not None:
            pieces.append(piece.group(0))
            continue
        hidden = KEPT_AT_START <= index < ID_NUMBER_CHARACTERS - KEPT_AT_END
        pieces.append(MASK if hidden else piece.group(0))
        index += 1
    assert index == ID_NUMBER_CHARACTERS
    return "".join(pieces)
