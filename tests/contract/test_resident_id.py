"""SPEC §4.4: GB 11643 ID numbers and the keyed resident pseudonym.

The check character is computed here from the standard (ISO 7064 MOD 11-2: weights 2^(17-i) mod 11,
check = (12 - sum mod 11) mod 11, 10 written X), not by the code under test.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import date

import pytest

from ledger.contract.resident_id import InvalidIdNumber, normalize_id_number, pseudonym

PEPPER = "a-pepper-of-some-length"


def with_check(first_seventeen: str) -> str:
    total = sum(int(digit) * (2 ** (17 - position) % 11)
                for position, digit in enumerate(first_seventeen))
    check = (12 - total % 11) % 11
    return first_seventeen + ("X" if check == 10 else str(check))


VALID = [
    "11010519491231002X",              # the standard's own example
    with_check("33010819900101123"),
    with_check("44030420000229001"),   # born on a leap day
    with_check("51010219001231000"),
]


@pytest.mark.parametrize("id_number", VALID)
def test_valid_numbers_are_accepted_as_they_are(id_number: str) -> None:
    assert normalize_id_number(id_number) == id_number


def test_the_examples_cover_every_kind_of_check_character() -> None:
    assert VALID[0].endswith("X")
    numbers = [with_check(f"330108199001011{serial:02d}") for serial in range(100)]
    assert {number[-1] for number in numbers} == set("0123456789X")
    for number in numbers:
        assert normalize_id_number(number) == number


def test_a_lowercase_x_is_normalized_to_uppercase() -> None:
    assert normalize_id_number("11010519491231002x") == "11010519491231002X"
    assert pseudonym("11010519491231002x", PEPPER) == pseudonym("11010519491231002X", PEPPER)


def test_surrounding_whitespace_is_ignored() -> None:
    assert normalize_id_number(" 11010519491231002X\n") == "11010519491231002X"


def wrong_check(id_number: str) -> str:
    wrong = "0" if id_number[-1] != "0" else "1"
    return id_number[:-1] + wrong


INVALID = {
    "wrong-check-character": (wrong_check(VALID[1]), "check character"),
    "X-where-a-digit-belongs": (VALID[1][:-1] + "X" if VALID[1][-1] != "X" else
                                VALID[1][:-1] + "0", "check character"),
    "february-30": (with_check("33010819900230123"), "birth date"),
    "month-13": (with_check("33010819901301123"), "birth date"),
    "day-00": (with_check("33010819900100123"), "birth date"),
    "not-a-leap-year": (with_check("33010819000229123"), "birth date"),
    "born-before-1900": (with_check("33010818991231123"), "birth date"),
    "born-in-the-future": (with_check("33010830000101123"), "birth date"),
    "17-characters": (VALID[1][:17], "18 characters"),
    "19-characters": (VALID[1] + "1", "18 characters"),
    "old-15-digit-number": ("330108900101123", "18 characters"),
    "empty": ("", "18 characters"),
    "letter-inside": (VALID[1][:5] + "A" + VALID[1][6:], "17 digits"),
    "other-check-letter": (VALID[1][:17] + "Y", "17 digits"),
    "full-width-digits": ("".join(chr(ord(c) + 0xFEE0) for c in VALID[1]), "17 digits"),
}


@pytest.mark.parametrize("case", list(INVALID))
def test_invalid_numbers_are_refused_without_being_repeated(case: str) -> None:
    id_number, reason = INVALID[case]
    with pytest.raises(InvalidIdNumber) as refused:
        normalize_id_number(id_number)
    message = str(refused.value)
    assert reason in message
    if id_number:
        assert id_number not in message
        assert id_number[:6] not in message and id_number[-4:] not in message
    with pytest.raises(InvalidIdNumber):
        pseudonym(id_number, PEPPER)


def test_the_birth_date_may_be_today_but_not_tomorrow() -> None:
    today = date(2026, 11, 22)
    born_today = with_check("330108" + today.strftime("%Y%m%d") + "123")
    born_tomorrow = with_check("33010820261123123")
    assert normalize_id_number(born_today, today=today) == born_today
    with pytest.raises(InvalidIdNumber):
        normalize_id_number(born_tomorrow, today=today)


def test_the_pseudonym_is_hex_hmac_sha256_of_the_number_keyed_by_the_pepper() -> None:
    expected = hmac.new(PEPPER.encode("utf-8"), VALID[0].encode("ascii"), hashlib.sha256)
    assert pseudonym(VALID[0], PEPPER) == expected.hexdigest()
    assert len(pseudonym(VALID[0], PEPPER)) == 64


def test_the_pseudonym_depends_on_the_pepper_and_the_number() -> None:
    assert pseudonym(VALID[0], PEPPER) != pseudonym(VALID[0], PEPPER + "!")
    assert pseudonym(VALID[0], PEPPER) != pseudonym(VALID[1], PEPPER)
    assert pseudonym(VALID[0], "盐值-pepper-unicode") == hmac.new(
        "盐值-pepper-unicode".encode(), VALID[0].encode(), hashlib.sha256).hexdigest()
