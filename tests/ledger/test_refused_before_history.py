"""SPEC §4.5: refusals decided before the ledger's history is read (stage one: size, JSON,
schema, platform, signature, key validity, clock skew), each kept whole, on SQLite and on
PostgreSQL, through the same ingestion path the API and the consumer use."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.bootstrap import Ledger
from ledger.contract.signing import event_body
from ledger.domain.outcomes import Reason, Status
from ledger.domain.verification import Delivery
from ledger.service import registry
from ledger.service.keyring import Keyring
from tests.ledger.helpers import (
    assert_rejected_and_kept,
    ingest_one,
    now_s,
    raw_delivery,
    rejections,
    signed_by_a_stranger,
)
from tests.support import PlatformFixture

# --- malformed_json --------------------------------------------------------------------------

@pytest.mark.parametrize("body", [
    pytest.param(b"", id="empty"),
    pytest.param(b"{", id="truncated"),
    pytest.param(b"points: 10", id="not-json"),
    pytest.param(b'{"event_id": "a",}', id="trailing-comma"),
    pytest.param(b'{"points": NaN}', id="nan"),
    pytest.param(b'{"points": Infinity}', id="infinity"),
    pytest.param(b'{"memo": "\xff\xfe"}', id="not-utf8"),
    pytest.param(b"\xef\xbb\xbf{}", id="byte-order-mark"),
    pytest.param(b'{"seq": ' + b"1" * 5000 + b"}", id="integer-with-5000-digits"),
    pytest.param(b"[" * 3000 + b"]" * 3000, id="nested-3000-deep"),
    pytest.param(b'{"memo": ' + b"{\"a\":" * 1100 + b"1" + b"}" * 1100 + b"}",
                 id="objects-nested-1100-deep"),
])
def test_malformed_json_is_rejected_and_kept(
        shared_ledger: Ledger, shared_platform: PlatformFixture, body: bytes) -> None:
    assert len(body) <= 8 * 1024
    outcome = assert_rejected_and_kept(shared_ledger, raw_delivery(shared_platform, body),
                                       Reason.MALFORMED_JSON)
    assert outcome.errors == {}


# --- schema_invalid --------------------------------------------------------------------------

SchemaCase = Callable[[PlatformFixture], tuple[Delivery, dict[str, str]]]


def _mutated(change: Callable[[dict[str, Any]], None],
             errors: dict[str, str]) -> SchemaCase:
    def build(platform: PlatformFixture) -> tuple[Delivery, dict[str, str]]:
        event = platform.event()
        change(event)
        return platform.delivery(event), errors
    return build


def _duplicate_key(platform: PlatformFixture) -> tuple[Delivery, dict[str, str]]:
    event = platform.event()
    body = event_body(event)
    assert body.endswith(b"}")
    body = body[:-1] + b',"points":10}'
    return raw_delivery(platform, body, event["event_id"]), {"points": "duplicate key"}


def _occurred_after_signature(platform: PlatformFixture) -> tuple[Delivery, dict[str, str]]:
    # Signed an hour ago about something that happens ten minutes after the signature: more than
    # the allowed 300 s of skew beyond the signature timestamp.
    signed_at = now_s() - 3600
    occurred = datetime.fromtimestamp(signed_at + 600, UTC).isoformat()
    delivery = platform.delivery(platform.event(occurred_at=occurred), timestamp=signed_at)
    return delivery, {"occurred_at": "must not be after the signature timestamp"}


def _wrong_type(field: str, value: Any, message: str) -> SchemaCase:
    return _mutated(lambda event: event.__setitem__(field, value), {field: message})


SCHEMA_CASES: dict[str, SchemaCase] = {
    "unknown-field": _mutated(lambda event: event.__setitem__("points_bonus", 5),
                              {"points_bonus": "unknown field"}),
    "duplicate-key": _duplicate_key,
    "float-seq": _wrong_type("seq", 1.0, "must be an integer"),
    "boolean-points": _wrong_type("points", True, "must be an integer"),
    "string-points": _wrong_type("points", "10", "must be an integer"),
    "null-points": _wrong_type("points", None, "must be an integer"),
    "zero-points": _wrong_type("points", 0, "must be between 1 and 100000"),
    "too-many-points": _wrong_type("points", 100_001, "must be between 1 and 100000"),
    "zero-seq": _wrong_type("seq", 0, "must be between 1 and 9007199254740991"),
    "missing-resident": _mutated(lambda event: event.pop("resident"),
                                 {"resident": "missing required field"}),
    "upper-case-resident": _wrong_type("resident", "A" * 64, "must be 64 lowercase hex digits"),
    "unknown-category": _wrong_type(
        "category", "jogging",
        "must be one of garbage_sorting, environment_hygiene, volunteering, safety_patrol, "
        "safety_education, knowledge_quiz, civic_participation, mutual_aid, honors, other"),
    "unknown-type": _wrong_type(
        "type", "points.redeemed",
        "must be one of points.awarded, points.deducted, points.revoked"),
    "occurred-at-without-offset": _wrong_type(
        "occurred_at", "2026-11-01T09:30:00", "must be an RFC 3339 timestamp with an offset"),
    "occurred-in-year-1": _wrong_type("occurred_at", "0001-01-01T00:00:00+08:00",
                                      "must not be before 1970-01-01T00:00:00Z"),
    "occurred-before-1970": _wrong_type("occurred_at", "1969-12-31T23:59:59Z",
                                        "must not be before 1970-01-01T00:00:00Z"),
    "memo-of-201-characters": _wrong_type("memo", "x" * 201, "must be at most 200 characters"),
    "revokes-on-an-award": _mutated(lambda event: event.__setitem__("revokes", "lijiayuan-0"),
                                    {"revokes": "only allowed for points.revoked"}),
    "revocation-without-revokes": _mutated(
        lambda event: event.__setitem__("type", "points.revoked"),
        {"revokes": "required for points.revoked"}),
    "occurred-after-signature-plus-skew": _occurred_after_signature,
}


@pytest.mark.parametrize("case", list(SCHEMA_CASES))
def test_schema_invalid_is_rejected_with_its_field_errors(
        shared_ledger: Ledger, shared_platform: PlatformFixture, case: str) -> None:
    delivery, expected_errors = SCHEMA_CASES[case](shared_platform)
    outcome = assert_rejected_and_kept(shared_ledger, delivery, Reason.SCHEMA_INVALID)
    assert outcome.errors == expected_errors
    kept = rejections(shared_ledger)[-1]
    assert kept.errors == expected_errors
    # Filed under the event it claims to be, so a platform can look its refusal up; a body with a
    # duplicate key has no trustworthy identity (the key may be event_id itself).
    claimed = (shared_platform.code, delivery.headers["webhook-id"])
    identity = (None, None) if case == "duplicate-key" else claimed
    assert (kept.platform, kept.event_id) == identity


def test_schema_invalid_reports_every_broken_field_at_once(
        shared_ledger: Ledger, shared_platform: PlatformFixture) -> None:
    event = shared_platform.event(points="ten", seq=None, category="jogging", extra=1)
    event["seq"] = 2.5
    outcome = ingest_one(shared_ledger, shared_platform.delivery(event))
    assert outcome.reason is Reason.SCHEMA_INVALID
    assert set(outcome.errors) == {"points", "seq", "category", "extra"}


@pytest.mark.parametrize("identity", ["nul\u0000byte", "lone\ud800surrogate", "bell\u0007"])
def test_schema_invalid_with_an_unstorable_event_id_is_still_kept(
        shared_ledger: Ledger, shared_platform: PlatformFixture, identity: str) -> None:
    """A crafted identity must not turn a refusal into a failed batch (a poison message)."""
    event = shared_platform.event(event_id=identity, platform="lijia\u0000yuan")
    body = json.dumps(event).encode("ascii")
    outcome = assert_rejected_and_kept(shared_ledger, raw_delivery(shared_platform, body),
                                       Reason.SCHEMA_INVALID)
    assert set(outcome.errors) == {"event_id", "platform"}


@pytest.mark.parametrize("name", ["nul\u0000field", "lone\udc00surrogate"])
def test_unstorable_characters_in_field_names_and_headers_are_still_kept(
        shared_ledger: Ledger, shared_platform: PlatformFixture, name: str) -> None:
    event = shared_platform.event()
    event[name] = 1
    body = json.dumps(event).encode("ascii")
    signed = shared_platform.signer.sign_body(event["event_id"], body)
    delivery = Delivery(signed.body, {**signed.headers, "x-note": name}, "amqp")
    outcome = assert_rejected_and_kept(shared_ledger, delivery, Reason.SCHEMA_INVALID)
    assert outcome.errors == {name: "unknown field"}


def test_a_json_array_is_schema_invalid(
        shared_ledger: Ledger, shared_platform: PlatformFixture) -> None:
    outcome = assert_rejected_and_kept(shared_ledger, raw_delivery(shared_platform, b"[]"),
                                       Reason.SCHEMA_INVALID)
    assert outcome.errors == {"_schema": "the body must be a JSON object"}


# --- too_large ---------------------------------------------------------------------------------

def test_a_body_over_8_kib_is_too_large_and_kept(
        shared_ledger: Ledger, shared_platform: PlatformFixture) -> None:
    event = shared_platform.event()
    body = event_body(event)
    padded = body[:-1] + b" " * (8 * 1024 + 1 - len(body)) + b"}"
    assert len(padded) == 8 * 1024 + 1 and json.loads(padded)
    delivery = raw_delivery(shared_platform, padded, event["event_id"])
    assert_rejected_and_kept(shared_ledger, delivery, Reason.TOO_LARGE)


def test_a_body_of_exactly_8_kib_is_accepted(ledger: Ledger, platform: PlatformFixture) -> None:
    body = event_body(platform.event())
    padded = body[:-1] + b" " * (8 * 1024 - len(body)) + b"}"
    assert len(padded) == 8 * 1024
    outcome = ingest_one(ledger, raw_delivery(platform, padded, "lijiayuan-1"))
    assert outcome.status is Status.RECORDED


# --- unknown_platform --------------------------------------------------------------------------

def test_an_unregistered_platform_is_refused(
        shared_ledger: Ledger, shared_platform: PlatformFixture) -> None:
    event = shared_platform.event(platform="wuhe_zhonglian")
    outcome = assert_rejected_and_kept(shared_ledger, shared_platform.delivery(event),
                                       Reason.UNKNOWN_PLATFORM)
    assert (outcome.platform, outcome.event_id) == ("wuhe_zhonglian", event["event_id"])


# --- bad_signature -----------------------------------------------------------------------------

def _tampered_body(platform: PlatformFixture) -> Delivery:
    delivery = platform.delivery(points=10)
    tampered = delivery.body.replace(b'"points":10', b'"points":99')
    assert tampered != delivery.body
    return Delivery(tampered, delivery.headers, "http")


def _webhook_id_is_not_the_event_id(platform: PlatformFixture) -> Delivery:
    signed = platform.signer.sign_body("lijiayuan-999", event_body(platform.event()))
    return Delivery(signed.body, signed.headers, "http")


def _without(header: str) -> Callable[[PlatformFixture], Delivery]:
    def build(platform: PlatformFixture) -> Delivery:
        delivery = platform.delivery()
        headers = {name: value for name, value in delivery.headers.items() if name != header}
        return Delivery(delivery.body, headers, "http")
    return build


def _other_scheme(platform: PlatformFixture) -> Delivery:
    delivery = platform.delivery()
    signature = delivery.headers["webhook-signature"].replace("v1a,", "v1,")
    return Delivery(delivery.body, {**delivery.headers, "webhook-signature": signature}, "http")


def _timestamp_not_signed(platform: PlatformFixture) -> Delivery:
    delivery = platform.delivery()
    stamp = str(int(delivery.headers["webhook-timestamp"]) - 1)
    return Delivery(delivery.body, {**delivery.headers, "webhook-timestamp": stamp}, "http")


BAD_SIGNATURES: dict[str, Callable[[PlatformFixture], Delivery]] = {
    "wrong-key": signed_by_a_stranger,
    "tampered-body": _tampered_body,
    "webhook-id-is-not-the-event-id": _webhook_id_is_not_the_event_id,
    "missing-webhook-id": _without("webhook-id"),
    "missing-webhook-timestamp": _without("webhook-timestamp"),
    "missing-webhook-signature": _without("webhook-signature"),
    "v1-instead-of-v1a": _other_scheme,
    "timestamp-other-than-signed": _timestamp_not_signed,
}


@pytest.mark.parametrize("case", list(BAD_SIGNATURES))
def test_bad_signature_is_refused_and_kept(
        shared_ledger: Ledger, shared_platform: PlatformFixture, case: str) -> None:
    delivery = BAD_SIGNATURES[case](shared_platform)
    assert_rejected_and_kept(shared_ledger, delivery, Reason.BAD_SIGNATURE)


def test_a_key_of_another_platform_does_not_verify(
        ledger: Ledger, platform: PlatformFixture, other_platform: PlatformFixture) -> None:
    signed = other_platform.signer.sign(platform.event())
    delivery = Delivery(signed.body, signed.headers, "http")
    assert_rejected_and_kept(ledger, delivery, Reason.BAD_SIGNATURE)


def test_header_names_are_case_insensitive(ledger: Ledger, platform: PlatformFixture) -> None:
    delivery = platform.delivery()
    headers = {name.title(): value for name, value in delivery.headers.items()}
    assert "Webhook-Signature" in headers
    outcome = ingest_one(ledger, Delivery(delivery.body, headers, "amqp"))
    assert outcome.status is Status.RECORDED


# --- key_revoked -------------------------------------------------------------------------------

def _revoke(ledger: Ledger, key_id: str) -> int:
    """Revoke the key now; the revocation moment in whole seconds, rounded down."""
    moment = datetime.now(UTC)
    with ledger.sessions.begin() as session:
        registry.revoke_key(session, key_id, moment)
    return int(moment.timestamp())


def test_a_signature_dated_after_the_revocation_is_key_revoked(
        ledger: Ledger, platform: PlatformFixture) -> None:
    revoked_at = _revoke(ledger, platform.key_id)
    delivery = platform.delivery(timestamp=revoked_at + 2)
    outcome = assert_rejected_and_kept(ledger, delivery, Reason.KEY_REVOKED)
    assert outcome.event_id == "lijiayuan-1"


def test_a_signature_dated_before_the_revocation_is_still_accepted(
        ledger: Ledger, platform: PlatformFixture) -> None:
    """Events signed while the key was valid, delivered late, are still good."""
    revoked_at = _revoke(ledger, platform.key_id)
    outcome = ingest_one(ledger, platform.delivery(timestamp=revoked_at - 60))
    assert outcome.status is Status.RECORDED


def test_a_key_revoked_while_a_batch_is_verified_still_refuses_it(
        ledger: Ledger, platform: PlatformFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    """Stage one may read the keys before a revocation commits; stage two checks again."""
    stale_keyring: Keyring = ledger.ingestor.keyring()
    revoked_at = _revoke(ledger, platform.key_id)
    monkeypatch.setattr(ledger.ingestor, "keyring", lambda: stale_keyring)
    early = platform.delivery(timestamp=revoked_at - 60)
    late = platform.delivery(timestamp=revoked_at + 2)
    outcomes = ledger.ingestor.ingest([early, late])
    assert [outcome.status for outcome in outcomes] == [Status.RECORDED, Status.REJECTED]
    assert outcomes[1].reason is Reason.KEY_REVOKED
    assert [row.reason for row in rejections(ledger)] == ["key_revoked"]


# --- timestamp_skew ----------------------------------------------------------------------------

ABSURD_TIMESTAMPS = ["999999999999", "253402300800", "9" * 40, "-1", "-1795000000", "1.5e9",
                     "1795000000.0", " 1795000000", "0x6b0a6f80", "١٧٩٥٠٠٠٠٠٠", "NaN"]


@pytest.mark.parametrize("stamp", ABSURD_TIMESTAMPS)
@pytest.mark.parametrize("signed", [True, False], ids=["signed", "unsigned"])
def test_a_timestamp_that_names_no_moment_is_timestamp_skew_never_a_crash(
        ledger: Ledger, platform: PlatformFixture, stamp: str, signed: bool) -> None:
    """Only a platform's code is needed to send one (no valid signature): it must be refused
    and kept like any other input, not crash verification (issue 11, defect 2)."""
    event = platform.event()
    body = event_body(event)
    signer = platform.private_key if signed else Ed25519PrivateKey.generate()
    signed_content = f"{event['event_id']}.{stamp}.".encode() + body
    signature = "v1a," + base64.b64encode(signer.sign(signed_content)).decode()
    headers = {"webhook-id": event["event_id"], "webhook-timestamp": stamp,
               "webhook-signature": signature}
    assert_rejected_and_kept(ledger, Delivery(body, headers, "http"), Reason.TIMESTAMP_SKEW)


def test_a_signature_timestamp_too_far_in_the_future_is_refused(
        ledger: Ledger, platform: PlatformFixture) -> None:
    delivery = platform.delivery(timestamp=now_s() + 301 + 5)
    assert_rejected_and_kept(ledger, delivery, Reason.TIMESTAMP_SKEW)


def test_a_signature_timestamp_within_the_skew_is_accepted(
        ledger: Ledger, platform: PlatformFixture) -> None:
    outcome = ingest_one(ledger, platform.delivery(timestamp=now_s() + 240))
    assert outcome.status is Status.RECORDED


def test_an_old_signature_timestamp_is_accepted(
        ledger: Ledger, platform: PlatformFixture) -> None:
    """Only the future is bounded: an adapter's outbox may deliver days later."""
    event = platform.event(occurred_at="2026-01-05T08:00:00+08:00")
    outcome = ingest_one(ledger, platform.delivery(event, timestamp=now_s() - 30 * 86_400))
    assert outcome.status is Status.RECORDED
