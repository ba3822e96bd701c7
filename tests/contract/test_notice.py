"""The ledger's signed notices (SPEC §5, §9): what the ledger signs, an adapter accepts, and no
one else can forge."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.contract.notice import (
    Notice,
    NoticeRefusal,
    NoticeRefused,
    NoticeType,
    parse_notice,
    sign_notice,
    verify_notice,
)
from ledger.contract.signing import event_body
from ledger.contract.webhook import public_key_bytes, signed_headers

LEDGER_KEY = Ed25519PrivateKey.generate()
LEDGER_PUBLIC = public_key_bytes(LEDGER_KEY)
SHANGHAI_OFFSET = timezone(timedelta(hours=8))


def _notice(**changes: object) -> Notice:
    fields: dict[str, object] = {
        "notice_id": "redemption:7f3a", "platform": "lijiayuan", "type": NoticeType.REDEEMED,
        "resident": "ab" * 32, "points": 300,
        "occurred_at": datetime(2026, 11, 22, 10, 30, tzinfo=SHANGHAI_OFFSET),
        "redemption_id": "7f3a", "branch": "XS-GUALI", "receipt_no": "XS-GUALI-20261122-0001",
        "ledger_seq": 42}
    fields.update(changes)
    return Notice(**fields)  # type: ignore[arg-type]


def _refusal(body: bytes, headers: dict[str, str], platform: str = "lijiayuan") -> NoticeRefusal:
    with pytest.raises(NoticeRefused) as refused:
        verify_notice(body, headers, LEDGER_PUBLIC, platform)
    return refused.value.reason


def test_a_signed_notice_verifies_and_reads_back_as_signed() -> None:
    notice = _notice(type=NoticeType.REDEMPTION_REVERSED)
    signed = sign_notice(LEDGER_KEY, notice)
    assert signed.headers["webhook-id"] == notice.notice_id
    assert verify_notice(signed.body, signed.headers, LEDGER_PUBLIC, "lijiayuan") == notice
    assert notice.routing_key == "lijiayuan.points.redemption_reversed"


def test_an_altered_body_or_another_key_is_a_bad_signature() -> None:
    signed = sign_notice(LEDGER_KEY, _notice())
    altered = signed.body.replace(b'"points":300', b'"points":3000')
    assert _refusal(altered, signed.headers) is NoticeRefusal.BAD_SIGNATURE
    forged = sign_notice(Ed25519PrivateKey.generate(), _notice())
    assert _refusal(forged.body, forged.headers) is NoticeRefusal.BAD_SIGNATURE
    assert _refusal(signed.body, {}) is NoticeRefusal.BAD_SIGNATURE


def test_the_signed_id_must_be_the_notice_id() -> None:
    body = event_body(_notice().document())
    headers = signed_headers(LEDGER_KEY, "redemption:other", 1_800_000_000, body)
    assert _refusal(body, headers) is NoticeRefusal.BAD_SIGNATURE


def test_another_platforms_notice_is_refused() -> None:
    signed = sign_notice(LEDGER_KEY, _notice(platform="nanyang_young"))
    assert _refusal(signed.body, signed.headers) is NoticeRefusal.WRONG_PLATFORM


@pytest.mark.parametrize("change", [
    {"points": 0}, {"points": True}, {"points": "300"}, {"points": 1.5},
    {"ledger_seq": 0}, {"resident": "AB" * 32}, {"type": "points.awarded"},
    {"occurred_at": "2026-11-22 10:30:00"}, {"receipt_no": ""}, {"branch": "x" * 65},
    {"unexpected": 1},
])
def test_a_malformed_notice_is_refused_even_when_signed(change: dict[str, object]) -> None:
    document = {**_notice().document(), **change}
    body = json.dumps(document).encode()
    headers = signed_headers(LEDGER_KEY, "redemption:7f3a", 1_800_000_000, body)
    assert _refusal(body, headers) is NoticeRefusal.MALFORMED


@pytest.mark.parametrize("body", [b"not json", b"[]", b'{"notice_id": "a", "notice_id": "b"}',
                                  b"{" + b" " * 5000 + b"}"])
def test_unreadable_bodies_are_malformed(body: bytes) -> None:
    with pytest.raises(NoticeRefused) as refused:
        parse_notice(body)
    assert refused.value.reason is NoticeRefusal.MALFORMED


def test_a_missing_field_is_named() -> None:
    document = _notice().document()
    del document["receipt_no"]
    with pytest.raises(NoticeRefused, match="receipt_no: missing"):
        parse_notice(json.dumps(document).encode())
