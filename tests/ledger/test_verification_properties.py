"""Property: verification is total. Whatever bytes and headers arrive, over HTTP or AMQP, stage one
answers with an outcome and never raises, in-process and in the stage-one helper's wire format
(issue 11, defect 2: `webhook-timestamp: 999999999999` crashed it and killed the helper).
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.contract.signing import event_body
from ledger.contract.webhook import TIMESTAMP_MAX_S, encode_public_key, key_id_for
from ledger.domain.keyring import Keyring, RegisteredKey
from ledger.domain.outcomes import Outcome, Reason, Status
from ledger.domain.verification import Delivery, VerifiedEvent, verify_delivery
from ledger.worker.helper import verify_request
from ledger.worker.wire import decode_verdicts, encode_request
from tests.support import RESIDENT_A

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
SKEW_S = 300
KEY = Ed25519PrivateKey.generate()
RAW_PUBLIC_KEY = KEY.public_key().public_bytes_raw()
PLATFORM = "lijiayuan"

# A platform with a usable key, a retired one and a compromised one: every rule of §4.3 runs.
KEYRING = Keyring({PLATFORM: [
    RegisteredKey(key_id_for(RAW_PUBLIC_KEY), RAW_PUBLIC_KEY),
    RegisteredKey("key_retired", Ed25519PrivateKey.generate().public_key().public_bytes_raw(),
                  NOW - timedelta(days=1), NOW + timedelta(days=6)),
    RegisteredKey("key_leaked", Ed25519PrivateKey.generate().public_key().public_bytes_raw(),
                  NOW - timedelta(hours=1), NOW - timedelta(hours=1), compromised=True),
]})
assert encode_public_key(RAW_PUBLIC_KEY).startswith("whpk_")

EVENT: dict[str, Any] = {
    "event_id": "lijiayuan-1", "platform": PLATFORM, "seq": 1, "type": "points.awarded",
    "resident": RESIDENT_A, "category": "garbage_sorting", "points": 10,
    "occurred_at": "2026-11-01T09:30:00+08:00",
}

timestamps = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.integers(min_value=0, max_value=TIMESTAMP_MAX_S + 10).map(str),
    st.sampled_from(["999999999999", "253402300800", "253402300799", "0", "-0", "+1", "1e9",
                     " 1795000000", "1795000000\n", "١٧٩٥٠٠٠٠٠٠", "0" * 5000, "9" * 5000]),
    st.text(max_size=40),
)
header_text = st.one_of(st.text(max_size=120), st.sampled_from(["", "v1a,", "v1a,====", " "]))


def _signature_for(event_id: str, stamp: str, body: bytes) -> str:
    return "v1a," + base64.b64encode(KEY.sign(f"{event_id}.{stamp}.".encode() + body)).decode()


@st.composite
def deliveries(draw: st.DrawFn) -> Delivery:
    """A well-signed event with an arbitrary timestamp, garbage, or something in between."""
    kind = draw(st.sampled_from(["signed", "random_headers", "random_body", "mutated_event"]))
    stamp = draw(timestamps)
    if kind == "random_body":
        body = draw(st.binary(max_size=300))
    elif kind == "mutated_event":
        mutated = {**EVENT, draw(st.sampled_from(sorted(EVENT))): draw(
            st.one_of(st.text(max_size=30), st.integers(), st.none(), st.booleans(),
                      st.floats(allow_nan=True)))}
        body = json.dumps(mutated).encode()
    else:
        body = event_body(EVENT)
    headers = {"webhook-id": EVENT["event_id"], "webhook-timestamp": stamp,
               "webhook-signature": _signature_for(EVENT["event_id"], stamp, body)}
    if kind == "random_headers":
        headers = draw(st.dictionaries(
            st.sampled_from(["webhook-id", "webhook-timestamp", "webhook-signature",
                             "Webhook-Timestamp", "x-other"]), header_text, max_size=4))
    return Delivery(body, headers, draw(st.sampled_from(["http", "amqp"])))


def _an_outcome(verdict: VerifiedEvent | Outcome) -> None:
    if isinstance(verdict, Outcome):
        assert verdict.status is Status.REJECTED and verdict.reason in Reason
        assert verdict.detail


@settings(max_examples=400, deadline=None, derandomize=True)
@given(delivery=deliveries())
def test_verification_answers_every_input_with_an_outcome(delivery: Delivery) -> None:
    _an_outcome(verify_delivery(delivery, KEYRING, NOW, SKEW_S))


@settings(max_examples=200, deadline=None, derandomize=True)
@given(stamp=timestamps)
def test_a_signed_event_with_a_timestamp_no_moment_holds_is_timestamp_skew(stamp: str) -> None:
    body = event_body(EVENT)
    headers = {"webhook-id": EVENT["event_id"], "webhook-timestamp": stamp,
               "webhook-signature": _signature_for(EVENT["event_id"], stamp, body)}
    verdict = verify_delivery(Delivery(body, headers, "amqp"), KEYRING, NOW, SKEW_S)
    if stamp == "":
        assert isinstance(verdict, Outcome) and verdict.reason is Reason.BAD_SIGNATURE
        assert verdict.detail == "missing header webhook-timestamp"
        return
    names_a_moment = (stamp.isascii() and stamp.isdigit() and len(stamp) <= 12
                      and int(stamp) <= TIMESTAMP_MAX_S)
    if not names_a_moment or int(stamp) > NOW.timestamp() + SKEW_S:
        assert isinstance(verdict, Outcome) and verdict.reason is Reason.TIMESTAMP_SKEW, verdict


@settings(max_examples=60, deadline=None, derandomize=True)
@given(batch=st.lists(deliveries(), min_size=1, max_size=20))
def test_the_helper_wire_carries_every_input_to_the_same_outcome(batch: list[Delivery]) -> None:
    """What the stage-one helper does with a request, without the process around it (the
    process itself is fed hostile batches in tests/worker/test_verifying.py)."""
    answer = verify_request(encode_request(batch, KEYRING, NOW, SKEW_S))

    verdicts = decode_verdicts(answer, batch)

    assert verdicts == [verify_delivery(delivery, KEYRING, NOW, SKEW_S) for delivery in batch]
