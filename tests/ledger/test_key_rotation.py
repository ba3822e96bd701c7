"""SPEC §4.3: several keys per platform and several signatures per message allow key rotation."""

from __future__ import annotations

from datetime import UTC, datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.bootstrap import Ledger
from ledger.contract.signing import EventSigner, event_body
from ledger.contract.webhook import sign
from ledger.domain.outcomes import Reason, Status
from ledger.domain.verification import Delivery
from ledger.service import registry
from tests.ledger.helpers import entries, ingest_one, now_s
from tests.support import PlatformFixture


def second_key(ledger: Ledger, platform: PlatformFixture) -> tuple[Ed25519PrivateKey, str]:
    with ledger.sessions.begin() as session:
        private_key, registered = registry.generate_key(session, platform.code,
                                                        datetime.now(UTC))
    return private_key, registered.key_id


def test_two_active_keys_of_one_platform_both_verify(
        ledger: Ledger, platform: PlatformFixture) -> None:
    new_key, new_key_id = second_key(ledger, platform)
    by_old = platform.delivery()
    signed = EventSigner(new_key).sign(platform.event())
    by_new = Delivery(signed.body, signed.headers, "http")
    outcomes = ledger.ingestor.ingest([by_old, by_new])
    assert [outcome.status for outcome in outcomes] == [Status.RECORDED] * 2
    assert [entry.key_id for entry in entries(ledger)] == [platform.key_id, new_key_id]


def test_a_header_with_old_and_new_signatures_verifies(
        ledger: Ledger, platform: PlatformFixture) -> None:
    new_key, _ = second_key(ledger, platform)
    event = platform.event()
    body, stamp = event_body(event), now_s()
    both = " ".join(sign(key, event["event_id"], stamp, body)
                    for key in (platform.private_key, new_key))
    headers = {"webhook-id": event["event_id"], "webhook-timestamp": str(stamp),
               "webhook-signature": both}
    assert both.count("v1a,") == 2
    assert ingest_one(ledger, Delivery(body, headers, "http")).status is Status.RECORDED
    (entry,) = entries(ledger)
    assert entry.webhook_signature == both, "the header is kept whole, for re-verification"


def test_after_rotation_the_revoked_old_signature_is_ignored_when_the_new_one_verifies(
        ledger: Ledger, platform: PlatformFixture) -> None:
    new_key, new_key_id = second_key(ledger, platform)
    with ledger.sessions.begin() as session:
        registry.revoke_key(session, platform.key_id, datetime.now(UTC))
    event = platform.event()
    body, stamp = event_body(event), now_s() + 2
    both = " ".join(sign(key, event["event_id"], stamp, body)
                    for key in (platform.private_key, new_key))
    headers = {"webhook-id": event["event_id"], "webhook-timestamp": str(stamp),
               "webhook-signature": both}
    assert ingest_one(ledger, Delivery(body, headers, "http")).status is Status.RECORDED
    assert entries(ledger)[0].key_id == new_key_id
    # Signed only with the old key after its revocation: refused.
    event_two = platform.event()
    body_two = event_body(event_two)
    only_old = {"webhook-id": event_two["event_id"], "webhook-timestamp": str(stamp),
                "webhook-signature": sign(platform.private_key, event_two["event_id"], stamp,
                                          body_two)}
    outcome = ingest_one(ledger, Delivery(body_two, only_old, "http"))
    assert outcome.reason is Reason.KEY_REVOKED


def test_a_garbage_entry_beside_a_good_signature_does_not_spoil_it(
        ledger: Ledger, platform: PlatformFixture) -> None:
    delivery = platform.delivery()
    signature = "v1a,notbase64!! v2,abc " + delivery.headers["webhook-signature"]
    headers = {**delivery.headers, "webhook-signature": signature}
    assert ingest_one(ledger, Delivery(delivery.body, headers, "http")).status is Status.RECORDED
