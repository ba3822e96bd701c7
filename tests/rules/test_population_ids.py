"""The synthetic county's residents can carry real-looking ID numbers, so that `bench console`
looks them up at the counter as a teller would: valid, distinct, and pseudonymized with the
ledger's pepper exactly as a real look-up does."""

from __future__ import annotations

from ledger.bench.county import BIRTH_DAYS, id_number_of, resident
from ledger.contract.resident_id import normalize_id_number, pseudonym
from tests.support import TEST_PEPPER


def test_each_resident_has_a_valid_id_number_of_their_own() -> None:
    numbers = [*range(0, 3000), *range(BIRTH_DAYS - 5, BIRTH_DAYS + 5), 999_999, 1_999_999]
    id_numbers = [id_number_of(number) for number in numbers]
    assert all(normalize_id_number(id_number) == id_number for id_number in id_numbers)
    assert len(set(id_numbers)) == len(numbers)


def test_with_the_pepper_the_pseudonym_is_the_one_a_look_up_computes() -> None:
    for number in (0, 7, 123_456):
        assert resident(number, pepper=TEST_PEPPER).pseudonym == pseudonym(
            id_number_of(number), TEST_PEPPER)
    assert resident(7).pseudonym != resident(7, pepper=TEST_PEPPER).pseudonym
    assert resident(7).home == resident(7, pepper=TEST_PEPPER).home  # the same profile
