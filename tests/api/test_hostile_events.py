"""POST /events with a timestamp no date can hold, and with a compromised key backdated: refused
with a problem and kept, embedded and in broker mode (issue 11, defects 1 and 2: the first was
a 500, the second was recorded)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest
from flask.testing import FlaskClient

from ledger.app import create_app
from ledger.bootstrap import Ledger
from ledger.contract.signing import event_body
from ledger.service import registry
from tests.api.support import FakeEventQueue, Tokens, bearer, in_broker_mode, post_delivery
from tests.support import PlatformFixture


def _signed_with_stamp(platform: PlatformFixture, stamp: str) -> tuple[bytes, dict[str, str]]:
    event = platform.event()
    body = event_body(event)
    content = f"{event['event_id']}.{stamp}.".encode() + body
    return body, {"webhook-id": event["event_id"], "webhook-timestamp": stamp,
                  "webhook-signature": "v1a," + base64.b64encode(
                      platform.private_key.sign(content)).decode()}


def _reasons(client: FlaskClient, tokens: Tokens) -> list[str]:
    listed = client.get("/api/v1/rejections", headers=bearer(tokens.by_role["auditor"]))
    return [item["reason"] for item in listed.json["items"]]


@pytest.mark.parametrize("broker", [False, True], ids=["embedded", "broker"])
@pytest.mark.parametrize("stamp", ["999999999999", "253402300800", "-1"])
def test_a_timestamp_no_date_can_hold_is_a_401_timestamp_skew_and_kept(
        ledger: Ledger, tokens: Tokens, platform: PlatformFixture, stamp: str,
        broker: bool) -> None:
    queue = FakeEventQueue()
    app = create_app(ledger=in_broker_mode(ledger) if broker else ledger, event_queue=queue)
    client = app.test_client()
    body, headers = _signed_with_stamp(platform, stamp)

    response = client.post("/api/v1/events", data=body, headers=headers,
                           content_type="application/json")

    assert response.status_code == 401
    assert response.content_type == "application/problem+json"
    assert response.json["code"] == "timestamp_skew"
    assert queue.published == []
    assert _reasons(client, tokens) == ["timestamp_skew"]


def test_a_backdated_event_signed_with_a_compromised_key_is_refused(
        client: FlaskClient, ledger: Ledger, tokens: Tokens, platform: PlatformFixture) -> None:
    with ledger.sessions.begin() as session:
        registry.revoke_key(session, platform.key_id, datetime.now(UTC), compromised=True)
    a_day_ago = datetime.now(UTC) - timedelta(days=1)
    forged = platform.delivery(points=100_000, occurred_at=a_day_ago.isoformat(),
                               timestamp=int(a_day_ago.timestamp()))

    response = post_delivery(client, forged)

    assert response.status_code == 401 and response.json["code"] == "key_revoked"
    head = client.get("/api/v1/ledger/head", headers=bearer(tokens.by_role["auditor"])).json
    assert head["count"] == 0
    assert _reasons(client, tokens) == ["key_revoked"]
