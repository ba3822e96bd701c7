"""The fast paths of canonical JSON are RFC 8785 byte for byte (checked against `rfc8785`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
import rfc8785
from hypothesis import given
from hypothesis import strategies as st

from ledger.contract.canonical_json import JSON_SAFE_INTEGER_MAX, canonical_json
from ledger.domain.entry import LedgerEntry, entry_canonical_json

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


optional_texts = st.none() | texts
optional_integers = st.none() | st.integers(min_value=-2**60, max_value=2**60)
moments = st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(2200, 1, 1),
                       timezones=st.sampled_from([UTC, timezone(timedelta(hours=8)),
                                                  timezone(timedelta(hours=-3, minutes=-30))]))
entries = st.builds(
    LedgerEntry, seq=optional_integers.filter(lambda value: value is not None),
    kind=texts, platform=texts, resident=texts,
    points=st.integers(min_value=-100_000, max_value=100_000), occurred_at=moments,
    recorded_at=moments, event_id=optional_texts, platform_seq=optional_integers,
    category=optional_texts, revokes=optional_texts, key_id=optional_texts, body=optional_texts,
    webhook_timestamp=optional_integers, webhook_signature=optional_texts,
    redemption_id=optional_texts, branch=optional_texts)


@given(entries)
def test_an_entry_written_directly_is_the_rfc8785_of_its_document(entry: LedgerEntry) -> None:
    try:
        expected = rfc8785.dumps(entry.document())
    except rfc8785.IntegerDomainError:
        # Such an entry cannot be hashed at all (the envelope's bounds keep it out).
        with pytest.raises(rfc8785.IntegerDomainError):
            entry_canonical_json(entry)
        return
    assert entry_canonical_json(entry) == expected
