"""Stage one of ingestion: everything that can be decided without the ledger's history.

Size, JSON, schema, platform, signature, key validity and clock skew. No database writes here, so
the broker-mode API can run exactly this before it publishes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ledger.contract.envelope import (
    BODY_SIZE_MAX_BYTES,
    Envelope,
    MalformedJson,
    SchemaInvalid,
    load_json_object,
    parse_envelope,
)
from ledger.contract.webhook import (
    HEADER_SIGNATURE,
    SignatureHeaderError,
    TimestampInvalid,
    parse_signature_headers,
    verifying_key,
)
from ledger.domain.keyring import Keyring
from ledger.domain.outcomes import Outcome, Reason


@dataclass(frozen=True)
class Delivery:
    """One event as it arrived: exact body bytes and the headers worth keeping."""

    body: bytes
    headers: Mapping[str, str]
    channel: str  # "http" or "amqp"


@dataclass(frozen=True)
class VerifiedEvent:
    delivery: Delivery
    envelope: Envelope
    key_id: str
    webhook_timestamp: int
    webhook_signature: str


def verify_delivery(delivery: Delivery, keyring: Keyring, now: datetime,
                    clock_skew_s: int) -> VerifiedEvent | Outcome:
    """A verified event, or the rejected Outcome that says why not; never an exception, whatever
    the bytes and headers (tests/ledger/test_verification_properties.py feeds it garbage).

    `now` is when the ledger received the event: a revoked key is judged by it (SPEC §4.3)."""
    if len(delivery.body) > BODY_SIZE_MAX_BYTES:
        return Outcome.rejected(
            Reason.TOO_LARGE,
            f"the body has {len(delivery.body)} bytes; at most {BODY_SIZE_MAX_BYTES} are allowed",
        )
    try:
        envelope = parse_envelope(delivery.body)
    except MalformedJson as error:
        return Outcome.rejected(Reason.MALFORMED_JSON, str(error))
    except SchemaInvalid as error:
        platform, event_id = _identity_if_any(delivery.body)
        return Outcome.rejected(Reason.SCHEMA_INVALID, "the event breaks the envelope rules",
                                platform=platform, event_id=event_id, errors=error.errors)

    def refuse(reason: Reason, detail: str, errors: dict[str, str] | None = None) -> Outcome:
        return Outcome.rejected(reason, detail, platform=envelope.platform,
                                event_id=envelope.event_id, errors=errors)

    if not keyring.knows(envelope.platform):
        return refuse(Reason.UNKNOWN_PLATFORM, f"platform {envelope.platform!r} is not registered")
    try:
        headers = parse_signature_headers(delivery.headers)
    except TimestampInvalid as error:
        return refuse(Reason.TIMESTAMP_SKEW, str(error))
    except SignatureHeaderError as error:
        return refuse(Reason.BAD_SIGNATURE, str(error))
    if headers.webhook_id != envelope.event_id:
        return refuse(Reason.BAD_SIGNATURE, "webhook-id does not equal the event's event_id")

    signed_at = datetime.fromtimestamp(headers.timestamp, UTC)
    keys = keyring.keys(envelope.platform)
    refusals = {key.key_id: key.refusal(signed_at, now) for key in keys}
    usable = [(key.key_id, key.public_key) for key in keys if refusals[key.key_id] is None]
    key_id = verifying_key(headers, delivery.body, usable)
    if key_id is None:
        unusable = [(key.key_id, key.public_key) for key in keys
                    if refusals[key.key_id] is not None]
        revoked_key_id = verifying_key(headers, delivery.body, unusable)
        if revoked_key_id is not None:
            return refuse(Reason.KEY_REVOKED, str(refusals[revoked_key_id]))
        return refuse(Reason.BAD_SIGNATURE,
                      f"no signature verifies under a key of platform {envelope.platform!r}")

    allowed_until = now + timedelta(seconds=clock_skew_s)
    if signed_at > allowed_until:
        return refuse(Reason.TIMESTAMP_SKEW,
                      f"webhook-timestamp is more than {clock_skew_s} s in the future")
    if envelope.occurred_at > signed_at + timedelta(seconds=clock_skew_s):
        return refuse(Reason.SCHEMA_INVALID, "the event breaks the envelope rules",
                      {"occurred_at": "must not be after the signature timestamp"})
    signature_text = {name.lower(): value for name, value in delivery.headers.items()}[
        HEADER_SIGNATURE]
    return VerifiedEvent(delivery, envelope, key_id, headers.timestamp, signature_text)


def _identity_if_any(body: bytes) -> tuple[str | None, str | None]:
    """Best-effort platform and event_id of an invalid event, to file its rejection under."""
    try:
        document = load_json_object(body)
    except (MalformedJson, SchemaInvalid):
        return None, None
    return _storable(document.get("platform")), _storable(document.get("event_id"))


def _storable(value: object) -> str | None:
    """The value cut to its column, unless a database cannot hold it (NUL, lone surrogates)."""
    if not isinstance(value, str) or not value.isprintable():
        return None
    return value[:64]
