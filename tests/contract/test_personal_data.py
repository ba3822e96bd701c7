"""What counts as an ID number in free text, and how it is masked (SPEC §4.1, §4.5)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.contract.personal_data import (
    holds_id_number,
    mask_id_numbers,
    mask_id_numbers_in_bytes,
)
from ledger.contract.resident_id import check_character

FIRST_SEVENTEEN = "33010919800101123"
ID_NUMBER = FIRST_SEVENTEEN + check_character(FIRST_SEVENTEEN)
FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")


@pytest.mark.parametrize(("text", "masked"), [
    (ID_NUMBER, "330109********" + ID_NUMBER[-4:]),
    (f"身份证{ID_NUMBER}，请核对", f"身份证330109********{ID_NUMBER[-4:]}，请核对"),
    ("330109 19800101 1234", "330109 ******** 1234"),
    ("330109-19800101-123X", "330109-********-123X"),
    ("33010919800101123x", "330109********123x"),
    (f"a{ID_NUMBER}b", f"a330109********{ID_NUMBER[-4:]}b"),
    (ID_NUMBER.translate(FULL_WIDTH),
     "３３０１０９********" + ID_NUMBER[-4:].translate(FULL_WIDTH)),
    ("\\u0033\\u00330109198001011234", "\\u0033\\u00330109********1234"),
    ("330109\\u300019800101\\u30001234", "330109\\u3000********\\u30001234"),
    ("330109\\u002019800101\\u002d1234", "330109\\u0020********\\u002d1234"),
])
def test_every_way_of_writing_an_id_number_is_masked_keeping_six_and_four(
        text: str, masked: str) -> None:
    assert holds_id_number(text)
    assert mask_id_numbers(text) == masked
    assert not holds_id_number(mask_id_numbers(text))


@pytest.mark.parametrize("text", [
    "13800138000",  # a mobile number
    "1" + ID_NUMBER,  # nineteen digits are not an ID number
    ID_NUMBER[:17],
    "2026-11-01T09:30:00+08:00",
    "garbage_sorting 30 points",
    "a" * 64,
])
def test_other_numbers_are_left_alone(text: str) -> None:
    assert not holds_id_number(text)
    assert mask_id_numbers(text) == text


def test_bytes_that_are_not_utf8_stay_as_they_were_around_a_masked_number() -> None:
    gbk = "张三".encode("gbk")
    data = b"\xff" + gbk + b"," + ID_NUMBER.encode() + b",\xfe"
    assert mask_id_numbers_in_bytes(data) == (
        b"\xff" + gbk + b",330109********" + ID_NUMBER[-4:].encode() + b",\xfe")


@given(st.text(), st.text())
def test_masking_leaves_no_id_number_wherever_it_stands(before: str, after: str) -> None:
    text = before + " " + ID_NUMBER + " " + after
    assert ID_NUMBER not in mask_id_numbers(text)
    assert ID_NUMBER.encode() not in mask_id_numbers_in_bytes(text.encode("utf-8", "replace"))
