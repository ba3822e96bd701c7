"""POST /api/v1/events (SPEC §4.5, §7): every event ends in one outcome, and refusals are kept."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask.testing import FlaskClient

from ledger.app import create_app
from ledger.bootstrap import Ledger
from ledger.contract.signing import EventSigner
from ledger.domain.verification import Delivery
from ledger.service import registry
from tests.api.support import FakeEventQueue, Tokens, bearer, in_broker_mode, post_delivery
from tests.support import PlatformFixture


def _rejections(client: FlaskClient, tokens: Tokens, reason: str | None = None) -> list[Any]:
    query = f"?reason={reason}" if reason else ""
    response = client.get(f"/api/v1/rejections{query}", headers=bearer(tokens.by_role["auditor"]))
    assert response.status_code == 200
    items: list[Any] = response.json["items"]
    return items


def _head(client: FlaskClient, tokens: Tokens) -> dict[str, Any]:
    head: dict[str, Any] = client.get("/api/v1/ledger/head",
                                      headers=bearer(tokens.by_role["auditor"])).json
    return head


def test_a_signed_event_is_recorded_with_201(client: FlaskClient, tokens: Tokens,
                                             platform: PlatformFixture) -> None:
    delivery = platform.delivery()
    response = post_delivery(client, delivery)

    assert response.status_code == 201
    assert response.json["outcome"] == "recorded"
    assert response.json["event_id"] == "lijiayuan-1"
    assert response.json["seq"] == 1
    head = _head(client, tokens)
    assert response.json["entry_hash"] == head["entry_hash"]
    status = client.get(response.headers["Location"], headers=bearer(tokens.by_role["auditor"]))
    assert status.json["outcome"] == "recorded" and status.json["seq"] == 1
    assert "status" not in status.json  # one name for one thing, as POST /events says
    assert status.json["recorded_at"].endswith("Z")


def test_the_same_event_again_is_a_duplicate_with_200_and_nothing_new(
        client: FlaskClient, tokens: Tokens, platform: PlatformFixture) -> None:
    delivery = platform.delivery()
    first = post_delivery(client, delivery)
    second = post_delivery(client, delivery)

    assert second.status_code == 200
    assert second.json == {**first.json, "outcome": "duplicate"}
    assert _head(client, tokens)["count"] == 1
    assert _rejections(client, tokens) == []


def _malformed_json(platform: PlatformFixture, ledger: Ledger) -> Delivery:
    signed = platform.signer.sign_body("lijiayuan-1", b'{"event_id": "lijiayuan-1",')
    return Delivery(signed.body, signed.headers, "http")


def _schema_invalid(platform: PlatformFixture, ledger: Ledger) -> Delivery:
    return platform.delivery(points=0)


def _too_large(platform: PlatformFixture, ledger: Ledger) -> Delivery:
    signed = platform.signer.sign_body("lijiayuan-1", b'{"memo": "' + b"x" * 9000 + b'"}')
    return Delivery(signed.body, signed.headers, "http")


def _unknown_platform(platform: PlatformFixture, ledger: Ledger) -> Delivery:
    return platform.delivery(platform="nowhere")


def _bad_signature(platform: PlatformFixture, ledger: Ledger) -> Delivery:
    stranger = EventSigner(Ed25519PrivateKey.generate()).sign(platform.event())
    return Delivery(stranger.body, stranger.headers, "http")


def _key_revoked(platform: PlatformFixture, ledger: Ledger) -> Delivery:
    now = datetime.now(UTC)
    with ledger.sessions.begin() as session:
        registry.revoke_key(session, platform.key_id, now)
    return platform.delivery(timestamp=int(now.timestamp()) + 2)


def _timestamp_skew(platform: PlatformFixture, ledger: Ledger) -> Delivery:
    return platform.delivery(timestamp=int(time.time()) + 3600)


def _id_conflict(platform: PlatformFixture, ledger: Ledger) -> Delivery:
    ledger.ingestor.ingest([platform.delivery(seq=1)])
    return platform.delivery(seq=1, points=99)


def _seq_conflict(platform: PlatformFixture, ledger: Ledger) -> Delivery:
    ledger.ingestor.ingest([platform.delivery(seq=1)])
    return platform.delivery(seq=1, event_id="another-event")


def _unknown_revocation_target(platform: PlatformFixture, ledger: Ledger) -> Delivery:
    return platform.delivery(type="points.revoked", revokes="lijiayuan-404")


def _already_revoked(platform: PlatformFixture, ledger: Ledger) -> Delivery:
    ledger.ingestor.ingest([platform.delivery(seq=1),
                            platform.delivery(seq=2, type="points.revoked", revokes="lijiayuan-1")])
    return platform.delivery(seq=3, type="points.revoked", revokes="lijiayuan-1")


def _revocation_mismatch(platform: PlatformFixture, ledger: Ledger) -> Delivery:
    ledger.ingestor.ingest([platform.delivery(seq=1, points=10)])
    return platform.delivery(seq=2, type="points.revoked", revokes="lijiayuan-1", points=5)


REFUSALS: list[tuple[str, int, Callable[[PlatformFixture, Ledger], Delivery]]] = [
    ("malformed_json", 400, _malformed_json),
    ("schema_invalid", 422, _schema_invalid),
    ("too_large", 413, _too_large),
    ("unknown_platform", 401, _unknown_platform),
    ("bad_signature", 401, _bad_signature),
    ("key_revoked", 401, _key_revoked),
    ("timestamp_skew", 401, _timestamp_skew),
    ("id_conflict", 409, _id_conflict),
    ("seq_conflict", 409, _seq_conflict),
    ("unknown_revocation_target", 422, _unknown_revocation_target),
    ("already_revoked", 409, _already_revoked),
    ("revocation_mismatch", 422, _revocation_mismatch),
]


@pytest.mark.parametrize(("reason", "status", "make"), REFUSALS, ids=[r[0] for r in REFUSALS])
def test_a_refused_event_gets_its_status_and_is_kept_whole(
        client: FlaskClient, ledger: Ledger, tokens: Tokens, platform: PlatformFixture,
        reason: str, status: int, make: Callable[[PlatformFixture, Ledger], Delivery]) -> None:
    delivery = make(platform, ledger)
    headers = {**delivery.headers, "Authorization": "Bearer plt_not-for-the-ledger",
               "Cookie": "session=secret", "User-Agent": "lijiayuan-pusher/2.1"}
    response = client.post("/api/v1/events", data=delivery.body, headers=headers,
                           content_type="application/json")

    assert response.status_code == status
    assert response.content_type == "application/problem+json"
    assert response.json["code"] == reason
    [kept] = _rejections(client, tokens, reason)
    assert base64.b64decode(kept["body_base64"]) == delivery.body
    assert kept["body_size"] == len(delivery.body)
    assert kept["channel"] == "http" and kept["received_at"].endswith("Z")
    assert kept["headers"]["webhook-signature"] == delivery.headers["webhook-signature"]
    assert kept["headers"]["user-agent"] == "lijiayuan-pusher/2.1"
    assert {"authorization", "cookie"}.isdisjoint(kept["headers"])


def test_a_body_over_64_kib_is_too_large_and_its_first_64_kib_are_kept(
        client: FlaskClient, tokens: Tokens, platform: PlatformFixture) -> None:
    body = b'{"memo": "' + b"x" * 200_000 + b'"}'
    signed = platform.signer.sign_body("lijiayuan-1", body)

    response = client.post("/api/v1/events", data=body, headers=signed.headers,
                           content_type="application/json")

    assert response.status_code == 413 and response.json["code"] == "too_large"
    [kept] = _rejections(client, tokens, "too_large")
    assert base64.b64decode(kept["body_base64"]) == body[:64 * 1024]


def test_a_rejected_event_shows_as_rejected_under_its_platform(
        client: FlaskClient, tokens: Tokens, platform: PlatformFixture) -> None:
    post_delivery(client, platform.delivery(seq=1, points=0))

    status = client.get("/api/v1/platforms/lijiayuan/events/lijiayuan-1",
                        headers=bearer(tokens.by_role["admin"]))

    assert status.status_code == 200
    assert status.json["outcome"] == "rejected"
    assert status.json["reason"] == "schema_invalid"
    assert status.json["errors"] == {"points": "must be between 1 and 100000"}
    assert status.json["rejection_id"] == _rejections(client, tokens)[0]["id"]


# Broker mode: verified here, published to RabbitMQ (a fake), appended by the consumer later.

def test_broker_mode_publishes_a_verified_event_and_answers_202(
        ledger: Ledger, tokens: Tokens, platform: PlatformFixture) -> None:
    queue = FakeEventQueue()
    client = create_app(ledger=in_broker_mode(ledger), event_queue=queue).test_client()
    delivery = platform.delivery(type="points.deducted")

    response = post_delivery(client, delivery)

    assert response.status_code == 202
    assert response.json == {"outcome": "queued", "event_id": "lijiayuan-1"}
    [message] = queue.published
    assert message["routing_key"] == "lijiayuan.points.deducted"
    assert message["message_id"] == "lijiayuan-1"
    assert message["body"] == delivery.body
    assert message["headers"] == dict(delivery.headers)
    assert _head(client, tokens)["count"] == 0  # the consumer appends, not the API


def test_broker_mode_keeps_a_bad_signature_and_publishes_nothing(
        ledger: Ledger, tokens: Tokens, platform: PlatformFixture) -> None:
    queue = FakeEventQueue()
    client = create_app(ledger=in_broker_mode(ledger), event_queue=queue).test_client()

    response = post_delivery(client, _bad_signature(platform, ledger))

    assert response.status_code == 401 and response.json["code"] == "bad_signature"
    assert queue.published == []
    assert [item["reason"] for item in _rejections(client, tokens)] == ["bad_signature"]


def test_broker_mode_answers_503_when_the_queue_is_down_and_records_nothing(
        ledger: Ledger, tokens: Tokens, platform: PlatformFixture) -> None:
    queue = FakeEventQueue(available=False)
    client = create_app(ledger=in_broker_mode(ledger), event_queue=queue).test_client()

    response = post_delivery(client, platform.delivery())

    assert response.status_code == 503
    assert response.json["code"] == "queue_unavailable"
    assert int(response.headers["Retry-After"]) > 0
    assert _rejections(client, tokens) == []
    assert _head(client, tokens)["count"] == 0
