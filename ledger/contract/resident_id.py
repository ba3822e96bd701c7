"""PRC resident ID numbers (GB 11643) and the keyed resident pseudonym (SPEC §4.4).

The raw number is only ever held in memory long enough to compute the pseudonym; error messages
never repeat it, so it cannot leak into a log line through an exception.
"""

from __future__ import annotations

import hashlib
import hmac
import random
from datetime import date, timedelta

ID_NUMBER_LENGTH = 18
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARACTERS = "10X98765432"
BIRTH_YEAR_MIN = 1900
XIAOSHAN_REGION_CODE = "330109"  # 杭州市萧山区, where the bank's towns are


class InvalidIdNumber(ValueError):
    """The ID number is not a valid 18-character resident ID; the message never contains it."""


def check_character(first_seventeen: str) -> str:
    """ISO 7064 MOD 11-2 check character over the first 17 digits."""
    total = sum(int(digit) * weight for digit, weight in zip(first_seventeen, _WEIGHTS,
                                                            strict=True))
    return _CHECK_CHARACTERS[total % 11]


def normalize_id_number(id_number: str, today: date | None = None) -> str:
    """The canonical form (upper-case X) of a valid ID number; raises InvalidIdNumber."""
    candidate = id_number.strip().upper()
    if len(candidate) != ID_NUMBER_LENGTH:
        raise InvalidIdNumber(f"an ID number has {ID_NUMBER_LENGTH} characters")
    body, check = candidate[:17], candidate[17]
    if not body.isascii() or not body.isdigit() or not (check.isdigit() or check == "X"):
        raise InvalidIdNumber("an ID number is 17 digits followed by a digit or X")
    try:
        birth = date(int(body[6:10]), int(body[10:12]), int(body[12:14]))
    except ValueError:
        raise InvalidIdNumber("the ID number's birth date is not a valid date") from None
    if not date(BIRTH_YEAR_MIN, 1, 1) <= birth <= (today or date.today()):
        raise InvalidIdNumber("the ID number's birth date is out of range")
    if check_character(body) != check:
        raise InvalidIdNumber("the ID number's check character is wrong")
    return candidate


def pseudonym(id_number: str, pepper: str) -> str:
    """hex(HMAC-SHA256(pepper, ID number)) over the validated, canonical number."""
    canonical = normalize_id_number(id_number)
    return hmac.new(pepper.encode("utf-8"), canonical.encode("ascii"), hashlib.sha256).hexdigest()


def synthetic_id_number(rng: random.Random, region_code: str = XIAOSHAN_REGION_CODE) -> str:
    """A valid, made-up ID number (born 1950-2004) for demos, simulators and benchmarks."""
    birth = date(1950, 1, 1) + timedelta(days=rng.randrange(0, 55 * 365))
    first_seventeen = f"{region_code}{birth:%Y%m%d}{rng.randrange(0, 1000):03d}"
    return first_seventeen + check_character(first_seventeen)
