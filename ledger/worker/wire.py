"""What the worker and its stage-one helper process send each other: marshal frames.

A request is the deliveries, the keyring, the time and the allowed skew; an answer is one
verdict per delivery. Both are plain tuples, lists, dicts, strings, bytes and numbers in one
`marshal` dump: several times faster, in both processes, than pickling the dataclasses
themselves. Each travels as a frame, a 4-byte big-endian length and the dump, and only over the
private pipes between a worker and the helper it started. The decoding side rebuilds exactly the
objects the other side had: `decode_verdicts(encode_verdicts(v), deliveries) == v`.
"""

from __future__ import annotations

import marshal
import struct
from collections.abc import Sequence
from datetime import datetime
from typing import IO, Any

from ledger.contract.categories import Category, EventType
from ledger.contract.envelope import Envelope
from ledger.domain.keyring import Keyring, RegisteredKey
from ledger.domain.outcomes import Outcome, Reason, Status
from ledger.domain.verification import Delivery, VerifiedEvent

FRAME_HEADER = struct.Struct(">I")
# marshal's format version 4 is read by every Python 3.4 and later.
MARSHAL_VERSION = 4
# An encoded Outcome has this many fields; an encoded VerifiedEvent has more.
OUTCOME_FIELDS = 9

Verified = list[VerifiedEvent | Outcome]
Request = tuple[list[Delivery], Keyring, datetime, int]


def write_frame(stream: IO[bytes], payload: bytes) -> None:
    stream.write(FRAME_HEADER.pack(len(payload)))
    stream.write(payload)
    stream.flush()


def read_frame(stream: IO[bytes]) -> bytes | None:
    """The next frame's payload, or None at the end of the stream (the other side ended)."""
    header = stream.read(FRAME_HEADER.size)
    if len(header) < FRAME_HEADER.size:
        return None
    (length,) = FRAME_HEADER.unpack(header)
    payload = stream.read(length)
    return payload if len(payload) == length else None


def _dump(payload: Any) -> bytes:
    return marshal.dumps(payload, MARSHAL_VERSION)


def _load(data: bytes) -> Any:
    # Only frames from the other end of our own private pipe are ever decoded here.
    return marshal.loads(data)  # noqa: S302


def encode_request(deliveries: Sequence[Delivery], keyring: Keyring, now: datetime,
                   clock_skew_s: int) -> bytes:
    keys = {platform: [(key.key_id, key.public_key, _moment(key.signed_before),
                        _moment(key.received_before), key.compromised) for key in listed]
            for platform, listed in keyring.keys_by_platform.items()}
    return _dump(([(d.body, d.headers if type(d.headers) is dict else dict(d.headers), d.channel)
                   for d in deliveries], keys, now.isoformat(), clock_skew_s))


def decode_request(request: bytes) -> Request:
    deliveries, keys, now, clock_skew_s = _load(request)
    keyring = Keyring({platform: [RegisteredKey(key_id, public_key, _parse_moment(signed_before),
                                                _parse_moment(received_before), compromised)
                                  for key_id, public_key, signed_before, received_before,
                                  compromised in listed]
                       for platform, listed in keys.items()})
    return ([Delivery(body, headers, channel) for body, headers, channel in deliveries], keyring,
            datetime.fromisoformat(now), clock_skew_s)


def encode_verdicts(verdicts: Sequence[VerifiedEvent | Outcome]) -> bytes:
    """A verified event without its delivery (the worker holds it), or a refusal."""
    encoded: list[tuple[Any, ...]] = []
    for verdict in verdicts:
        if isinstance(verdict, VerifiedEvent):
            e = verdict.envelope
            encoded.append((verdict.key_id, verdict.webhook_timestamp, verdict.webhook_signature,
                            e.event_id, e.platform, e.seq, e.type.value, e.resident,
                            e.category.value, e.points, e.occurred_at.isoformat(), e.revokes,
                            e.memo, e.source_ref))
        else:
            encoded.append((verdict.status.value, verdict.detail, verdict.platform,
                            verdict.event_id, None if verdict.reason is None
                            else verdict.reason.value, verdict.errors, verdict.seq,
                            verdict.entry_hash, verdict.rejection_id))
    return _dump(encoded)


def decode_verdicts(answer: bytes, deliveries: Sequence[Delivery]) -> Verified:
    payload = _load(answer)
    if len(payload) != len(deliveries):
        raise ValueError(f"{len(payload)} verdicts for {len(deliveries)} deliveries")
    verdicts: Verified = []
    event_types, categories = _members(EventType), _members(Category)
    for item, delivery in zip(payload, deliveries, strict=True):
        if len(item) == OUTCOME_FIELDS:
            status, detail, platform, event_id, reason, errors, seq, entry_hash, rejection = item
            verdicts.append(Outcome(Status(status), detail, platform, event_id,
                                    None if reason is None else Reason(reason), errors, seq,
                                    entry_hash, rejection))
            continue
        (key_id, timestamp, signature, event_id, platform, seq, event_type, resident, category,
         points, occurred_at, revokes, memo, source_ref) = item
        envelope = Envelope(event_id, platform, seq, event_types[event_type], resident,
                            categories[category], points, datetime.fromisoformat(occurred_at),
                            revokes, memo, source_ref)
        verdicts.append(VerifiedEvent(delivery, envelope, key_id, timestamp, signature))
    return verdicts


def _members(enumeration: type[EventType] | type[Category]) -> dict[str, Any]:
    """A dict lookup: calling the enum class per event costs more than the rest of decoding."""
    return {member.value: member for member in enumeration}


def _moment(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _parse_moment(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)
