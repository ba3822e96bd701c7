"""The fast path of canonical_json is RFC 8785 byte for byte (checked against `rfc8785`)."""

from __future__ import annotations

from typing import Any

import rfc8785
from hypothesis import given
from hypothesis import strategies as st

from ledger.domain.entry import JSON_SAFE_INTEGER_MAX, canonical_json

ascii_keys = st.text(alphabet=st.characters(max_codepoint=127), max_size=12)
# Any Unicode text except lone surrogates (which neither serializer can encode as UTF-8).
texts = st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=40)
integers = st.integers(min_value=-JSON_SAFE_INTEGER_MAX, max_value=JSON_SAFE_INTEGER_MAX)


@given(st.dictionaries(ascii_keys, st.one_of(texts, integers), max_size=16))
def test_flat_documents_serialize_exactly_as_rfc8785(document: dict[str, Any]) -> None:
    assert canonical_json(document) == rfc8785.dumps(document)


@given(st.dictionaries(texts, st.one_of(texts, st.integers(), st.booleans(),
                                        st.lists(integers, max_size=3)), max_size=8))
def test_other_documents_fall_back_to_rfc8785(document: dict[str, Any]) -> None:
    try:
        expected = rfc8785.dumps(document)
    except rfc8785.IntegerDomainError:
        return
    assert canonical_json(document) == expected


def test_control_characters_are_escaped_as_rfc8785_says() -> None:
    document = {"body": "\u0000\u001f\b\t\n\f\r\"\\\u007f\u2028é中"}
    assert canonical_json(document) == rfc8785.dumps(document)
