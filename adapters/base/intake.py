"""Native records → mapped, pseudonymized, numbered, signed events in the outbox (SPEC §10).

Everything about one call happens in one outbox transaction: either every record of a webhook
call or a file is either stored as an event or quarantined, or none is (and the platform is told
to send it again). A record id seen before is a retry (nothing new) when it maps to the same
event, and quarantined as a conflict when it does not.

No ID number leaves here outside the sealed resident directory (SPEC §4.1, §4.5): a record id
shaped like one is kept (in the outbox, and as the event id) only as a keyed digest and is not
sent as `source_ref`; a memo has its ID numbers masked; what is quarantined or reported has them
masked wherever they stand in the record.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from adapters.base.outbox.database import Outbox, OutboxStores
from adapters.base.outbox.events import StoredEvent
from adapters.base.records import (
    NativeRecord,
    PointChange,
    QuarantineReason,
    RecordRefused,
)
from adapters.base.redaction import quoted
from adapters.base.residents import ResidentSeal
from ledger.contract.categories import EventType
from ledger.contract.personal_data import holds_id_number, mask_id_numbers
from ledger.contract.resident_id import pseudonym
from ledger.contract.signing import EventSigner, event_body
from ledger.runtime.metrics import ADAPTER_QUARANTINED

EVENT_ID_PATTERN = re.compile(r"[A-Za-z0-9._:-]{1,64}")
NATIVE_ID_LENGTH_MAX = 128
MEMO_LENGTH_MAX = 200
# Domain separation: the pepper also keys the pseudonyms and the sealing key.
RECORD_KEY_LABEL = b"pointsledger adapter record id v1"
RECORD_KEY_PREFIX = "k:"
DIGEST_HEX_LENGTH = 40
# A platform clock a little ahead of ours is tolerated, as the ledger tolerates signature skew.
FUTURE_TOLERANCE = timedelta(minutes=1)

Clock = Callable[[], datetime]


class RecordMapper(Protocol):
    """The part of an adapter that knows its platform's format."""

    platform: str

    def map_record(self, record: NativeRecord) -> PointChange: ...


@dataclass
class IntakeReport:
    accepted: int = 0
    duplicates: int = 0
    quarantined: list[dict[str, str]] = field(default_factory=list)

    def document(self) -> dict[str, Any]:
        return {"accepted": self.accepted, "duplicates": self.duplicates,
                "quarantined": self.quarantined}


def event_id_for(platform: str, native_id: str) -> str:
    """The platform's own record id when the envelope allows it, else a stable digest of it.

    Never an ID number: the ledger refuses one in an event (and records the event id forever)."""
    candidate = f"{platform}:{native_id}"
    if EVENT_ID_PATTERN.fullmatch(candidate) and not holds_id_number(candidate):
        return candidate
    digest = hashlib.sha256(native_id.encode("utf-8")).hexdigest()[:DIGEST_HEX_LENGTH]
    return f"{platform}:h:{digest}"


def record_key(native_id: str, pepper: str) -> str:
    """What the outbox and the event keep of a native record id: the id itself, or, when it is
    shaped like an ID number, a digest keyed with the pepper (a plain hash of an ID number is
    reversed by trying the few billion numbers there are)."""
    if not holds_id_number(native_id):
        return native_id
    key = hmac.new(pepper.encode("utf-8"), RECORD_KEY_LABEL, hashlib.sha256).digest()
    digest = hmac.new(key, native_id.encode("utf-8"), hashlib.sha256).hexdigest()
    return RECORD_KEY_PREFIX + digest[:DIGEST_HEX_LENGTH]


@dataclass(frozen=True)
class Quarantined:
    """A refused record as it is kept and reported: ID numbers masked wherever they stood."""

    location: str
    reason: str
    detail: str
    record: str

    @classmethod
    def of(cls, record: NativeRecord, refusal: RecordRefused) -> Quarantined:
        return cls(mask_id_numbers(record.location), refusal.reason.value,
                   mask_id_numbers(refusal.detail), mask_id_numbers(record.raw))

    def entry(self) -> dict[str, str]:
        return {"location": self.location, "reason": self.reason, "detail": self.detail}


class Intake:
    def __init__(self, mapper: RecordMapper, outbox: Outbox, signer: EventSigner, pepper: str,
                 clock: Clock | None = None) -> None:
        self._mapper = mapper
        self._outbox = outbox
        self._signer = signer
        self._pepper = pepper
        self.seal = ResidentSeal(pepper)
        self._clock = clock or (lambda: datetime.now(UTC))
        self.platform = mapper.platform

    def accept(self, records: Iterable[NativeRecord],
               within: OutboxStores | None = None) -> IntakeReport:
        """Store or quarantine every record, in one transaction (the caller's, if given)."""
        if within is not None:
            # Counted before the caller's commit: should that fail (rare), the records are read
            # again and counted again as they are quarantined again.
            return self._counted(self._accept(records, within))
        with self._outbox.transaction() as transaction:
            report = self._accept(records, transaction)
        return self._counted(report)

    def _counted(self, report: IntakeReport) -> IntakeReport:
        for reason, count in Counter(entry["reason"] for entry in report.quarantined).items():
            ADAPTER_QUARANTINED.labels(platform=self.platform, reason=reason).inc(count)
        return report

    def _accept(self, records: Iterable[NativeRecord],
                transaction: OutboxStores) -> IntakeReport:
        report = IntakeReport()
        # The residents of this call, remembered (sealed) for the ledger's notices.
        seen: dict[str, str] = {}
        for record in records:
            try:
                if record.unreadable is not None:
                    raise RecordRefused(QuarantineReason.BAD_RECORD, record.unreadable)
                change = self._mapper.map_record(record)
                if self._store(change, transaction, seen):
                    report.accepted += 1
                else:
                    report.duplicates += 1
            except RecordRefused as refusal:
                kept = Quarantined.of(record, refusal)
                transaction.quarantine.keep(kept.location, kept.reason, kept.detail, kept.record)
                report.quarantined.append(kept.entry())
        transaction.residents.remember(seen, self.seal.seal)
        return report

    def _store(self, change: PointChange, transaction: OutboxStores,
               seen: dict[str, str]) -> bool:
        """True when stored, False for a retry of a record already stored."""
        now = self._clock()
        if change.occurred_at > now + FUTURE_TOLERANCE:
            raise RecordRefused(QuarantineReason.BAD_DATE,
                                f"time {change.occurred_at.isoformat()} is in the future")
        if not change.native_id or len(change.native_id) > NATIVE_ID_LENGTH_MAX:
            raise RecordRefused(QuarantineReason.BAD_RECORD,
                                f"the record id must have 1 to {NATIVE_ID_LENGTH_MAX} characters")
        resident = pseudonym(change.id_number, self._pepper)
        seen[resident] = change.id_number
        category, points = change.category.value, change.points
        revokes: str | None = None
        if change.type is EventType.REVOKED:
            target = self._revocation_target(change, resident, transaction)
            # A revocation restates its award (SPEC §4.5): the award's category and points.
            category, points, revokes = target.category, target.points, target.event_id
        fingerprint = _fingerprint(change.type.value, resident, category, points,
                                   change.occurred_at, revokes, change.memo)
        existing = self._stored(change.native_id, transaction)
        if existing is not None:
            if existing.fingerprint == fingerprint:
                return False
            raise RecordRefused(QuarantineReason.CONFLICTING_DUPLICATE,
                                f"record {quoted(change.native_id)} was received before with "
                                "other content")
        seq = transaction.events.next_seq()
        key = record_key(change.native_id, self._pepper)
        event_id = event_id_for(self.platform, key)
        event: dict[str, Any] = {
            "event_id": event_id, "platform": self.platform, "seq": seq,
            "type": change.type.value, "resident": resident, "category": category,
            "points": points, "occurred_at": change.occurred_at.isoformat(),
        }
        if key == change.native_id:  # not shaped like an ID number: the platform's reference
            event["source_ref"] = change.native_id
        if revokes is not None:
            event["revokes"] = revokes
        if change.memo:
            # Cut first, then masked: a cut could leave an ID-shaped run at the end.
            event["memo"] = mask_id_numbers(change.memo[:MEMO_LENGTH_MAX])
        signed = self._signer.sign_body(event_id, event_body(event), int(now.timestamp()))
        transaction.events.add(
            StoredEvent(seq, event_id, key, change.type.value, resident, category,
                        points, fingerprint),
            f"{self.platform}.{change.type.value}", signed.body, signed.headers)
        return True

    def _revocation_target(self, change: PointChange, resident: str,
                           transaction: OutboxStores) -> StoredEvent:
        target_id = change.revokes_native_id
        target = None if target_id is None else self._stored(target_id, transaction)
        if target is None or target.type != EventType.AWARDED.value:
            raise RecordRefused(QuarantineReason.UNKNOWN_REVOCATION_TARGET,
                                f"no award {quoted(target_id)} was received to revoke")
        if target.resident != resident:
            raise RecordRefused(QuarantineReason.UNKNOWN_REVOCATION_TARGET,
                                f"award {quoted(target_id)} belongs to another resident")
        return target

    def _stored(self, native_id: str, transaction: OutboxStores) -> StoredEvent | None:
        """The event stored for a record id. An ID-shaped id is kept as its keyed digest; an
        outbox written before that was done keeps it as it came, so that is looked up too."""
        key = record_key(native_id, self._pepper)
        stored = transaction.events.by_native_id(key)
        if stored is None and key != native_id:
            stored = transaction.events.by_native_id(native_id)
        return stored


def _fingerprint(*parts: object) -> str:
    text = "\x1f".join("" if part is None else
                       part.isoformat() if isinstance(part, datetime) else str(part)
                       for part in parts)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
