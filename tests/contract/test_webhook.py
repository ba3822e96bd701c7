"""SPEC §4.3: Standard Webhooks, scheme v1a (Ed25519), and the key encodings."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from ledger.contract.signing import EventSigner, event_body
from ledger.contract.webhook import (
    TIMESTAMP_MAX_S,
    KeyFormatError,
    SignatureHeaderError,
    decode_private_key,
    decode_public_key,
    encode_private_key,
    encode_public_key,
    key_id_for,
    parse_signature_headers,
    public_key_bytes,
    sign,
    signed_headers,
    verifying_key,
)

BODY = '{"event_id":"ljy-1","memo":"垃圾分类"}'.encode()
STAMP = 1_795_000_000


def raw_public(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


@pytest.fixture
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def test_the_signature_covers_id_timestamp_and_exact_body(key: Ed25519PrivateKey) -> None:
    entry = sign(key, "ljy-1", STAMP, BODY)
    scheme, encoded = entry.split(",", 1)
    assert scheme == "v1a"
    signature = base64.b64decode(encoded, validate=True)
    assert len(signature) == 64
    public = Ed25519PublicKey.from_public_bytes(raw_public(key))
    public.verify(signature, b"ljy-1.1795000000." + BODY)
    with pytest.raises(InvalidSignature):
        public.verify(signature, b"ljy-1.1795000001." + BODY)


def test_signed_headers_round_trip_through_verification(key: Ed25519PrivateKey) -> None:
    headers = signed_headers(key, "ljy-1", STAMP, BODY)
    assert set(headers) == {"webhook-id", "webhook-timestamp", "webhook-signature"}
    assert headers["webhook-timestamp"] == "1795000000"
    parsed = parse_signature_headers(headers)
    assert (parsed.webhook_id, parsed.timestamp) == ("ljy-1", STAMP)
    other = Ed25519PrivateKey.generate()
    candidates = [("key_other", raw_public(other)), ("key_mine", raw_public(key))]
    assert verifying_key(parsed, BODY, candidates) == "key_mine"
    assert verifying_key(parsed, BODY + b" ", candidates) is None
    assert verifying_key(parsed, BODY, candidates[:1]) is None


def test_one_of_several_signatures_is_enough(key: Ed25519PrivateKey) -> None:
    old = Ed25519PrivateKey.generate()
    header = f"{sign(old, 'ljy-1', STAMP, BODY)} {sign(key, 'ljy-1', STAMP, BODY)}"
    parsed = parse_signature_headers({"webhook-id": "ljy-1", "webhook-timestamp": str(STAMP),
                                      "webhook-signature": header})
    assert len(parsed.signatures) == 2
    assert verifying_key(parsed, BODY, [("new", raw_public(key))]) == "new"
    assert verifying_key(parsed, BODY, [("old", raw_public(old))]) == "old"


def test_entries_of_other_schemes_and_garbage_are_ignored(key: Ed25519PrivateKey) -> None:
    good = sign(key, "ljy-1", STAMP, BODY)
    header = f"v1,c2lnbmF0dXJl v1a,***  v1a,QUJD {good}"
    parsed = parse_signature_headers({"webhook-id": "ljy-1", "webhook-timestamp": str(STAMP),
                                      "webhook-signature": header})
    assert verifying_key(parsed, BODY, [("mine", raw_public(key))]) == "mine"


def test_header_names_are_case_insensitive(key: Ed25519PrivateKey) -> None:
    headers = {name.upper(): value
               for name, value in signed_headers(key, "ljy-1", STAMP, BODY).items()}
    assert parse_signature_headers(headers).webhook_id == "ljy-1"


@pytest.mark.parametrize(("change", "message"), [
    ({"webhook-id": ""}, "missing header webhook-id"),
    ({"webhook-timestamp": ""}, "missing header webhook-timestamp"),
    ({"webhook-signature": ""}, "missing header webhook-signature"),
    ({"webhook-timestamp": "-1795000000"}, "whole number of Unix seconds"),
    ({"webhook-timestamp": "1795000000.0"}, "whole number of Unix seconds"),
    ({"webhook-timestamp": "١٧٩٥٠٠٠٠٠٠"}, "whole number of Unix seconds"),
    ({"webhook-timestamp": "9" * 13}, "whole number of Unix seconds"),
    ({"webhook-timestamp": "999999999999"}, "beyond any date"),
    ({"webhook-timestamp": "253402300800"}, "beyond any date"),
    ({"webhook-signature": "v1,c2lnbmF0dXJl"}, "no v1a signature"),
    ({"webhook-signature": "v1a," + base64.b64encode(b"x" * 63).decode()}, "no v1a signature"),
    ({"webhook-id": "x" * 1025}, "too long"),
])
def test_malformed_headers_are_refused(key: Ed25519PrivateKey, change: dict[str, str],
                                       message: str) -> None:
    headers = {**signed_headers(key, "ljy-1", STAMP, BODY), **change}
    with pytest.raises(SignatureHeaderError, match=message):
        parse_signature_headers(headers)


def test_the_last_second_a_date_can_hold_is_still_a_timestamp(key: Ed25519PrivateKey) -> None:
    headers = signed_headers(key, "ljy-1", TIMESTAMP_MAX_S, BODY)
    assert parse_signature_headers(headers).timestamp == 253_402_300_799


def test_only_the_first_eight_signatures_are_considered(key: Ed25519PrivateKey) -> None:
    strangers = [sign(Ed25519PrivateKey.generate(), "ljy-1", STAMP, BODY) for _ in range(8)]
    header = " ".join([*strangers, sign(key, "ljy-1", STAMP, BODY)])
    parsed = parse_signature_headers({"webhook-id": "ljy-1", "webhook-timestamp": str(STAMP),
                                      "webhook-signature": header})
    assert verifying_key(parsed, BODY, [("mine", raw_public(key))]) is None


# --- key encodings ------------------------------------------------------------------------------

def test_a_public_key_is_whpk_and_base64_of_its_32_raw_bytes(key: Ed25519PrivateKey) -> None:
    raw = raw_public(key)
    text = encode_public_key(raw)
    assert text == "whpk_" + base64.b64encode(raw).decode()
    assert len(text) == 5 + 44
    assert decode_public_key(text) == raw
    assert decode_public_key(text + "\n") == raw
    assert public_key_bytes(key) == raw


def test_a_private_key_is_whsk_and_base64_of_its_32_byte_seed(key: Ed25519PrivateKey) -> None:
    seed = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    text = encode_private_key(key)
    assert text == "whsk_" + base64.b64encode(seed).decode()
    restored = decode_private_key(text + "\n")
    assert raw_public(restored) == raw_public(key)


@pytest.mark.parametrize("text", [
    "whsk_" + base64.b64encode(bytes(32)).decode(),    # a private key where a public one belongs
    "whpk" + base64.b64encode(bytes(32)).decode(),
    base64.b64encode(bytes(32)).decode(),
    "whpk_" + base64.b64encode(bytes(31)).decode(),
    "whpk_" + base64.b64encode(bytes(33)).decode(),
    "whpk_" + base64.b64encode(bytes(32)).decode().rstrip("="),
    "whpk_not*base64",
    "whpk_",
])
def test_a_malformed_public_key_is_refused(text: str) -> None:
    with pytest.raises(KeyFormatError):
        decode_public_key(text)


def test_a_public_key_where_a_private_one_belongs_is_refused(key: Ed25519PrivateKey) -> None:
    with pytest.raises(KeyFormatError):
        decode_private_key(encode_public_key(raw_public(key)))


def test_the_key_id_is_derived_from_the_key(key: Ed25519PrivateKey) -> None:
    key_id = key_id_for(raw_public(key))
    assert key_id == key_id_for(raw_public(key))
    assert key_id.startswith("key_") and len(key_id) == 20
    assert key_id != key_id_for(raw_public(Ed25519PrivateKey.generate()))


# --- signing events ----------------------------------------------------------------------------

def test_an_event_body_is_compact_utf8_json_with_offset_timestamps() -> None:
    moment = datetime(2026, 11, 1, 9, 30, tzinfo=timezone(timedelta(hours=8)))
    encoded = event_body({"memo": "垃圾分类", "occurred_at": moment, "points": 5})
    expected = '{"memo":"垃圾分类","occurred_at":"2026-11-01T09:30:00+08:00","points":5}'
    assert encoded == expected.encode("utf-8")
    with pytest.raises(TypeError):
        event_body({"at": object()})


def test_the_event_signer_signs_exactly_the_body_it_returns(key: Ed25519PrivateKey) -> None:
    signed = EventSigner(key).sign({"event_id": "ljy-9", "points": 1}, timestamp=STAMP)
    assert json.loads(signed.body) == {"event_id": "ljy-9", "points": 1}
    assert signed.headers["webhook-id"] == "ljy-9" == signed.event_id
    parsed = parse_signature_headers(signed.headers)
    assert verifying_key(parsed, signed.body, [("mine", raw_public(key))]) == "mine"
    now = int(datetime.now(UTC).timestamp())
    unstamped = EventSigner(key).sign({"event_id": "ljy-9"})
    assert abs(int(unstamped.headers["webhook-timestamp"]) - now) <= 2
