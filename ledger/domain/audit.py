"""An audit-trail event as the world sees it, hash-chained like the ledger (SPEC §6).

The document is exactly what `GET /api/v1/audit` returns without `entry_hash`; fields whose
value is null are left out, as in ledger entries, so that a field added later never changes
the hash of an older event.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ledger.domain.entry import chain_hash, leaf_hash, rfc3339_utc


@dataclass(frozen=True)
class AuditRecord:
    seq: int
    at: datetime
    actor: str
    action: str
    subject: str
    comment: str
    document_sha256: str | None = None
    details: dict[str, Any] | None = None

    def document(self) -> dict[str, Any]:
        raw: dict[str, Any] = {
            "seq": self.seq,
            "at": rfc3339_utc(self.at),
            "actor": self.actor,
            "action": self.action,
            "subject": self.subject,
            "comment": self.comment,
            "document_sha256": self.document_sha256,
            "details": self.details,
        }
        return {name: value for name, value in raw.items() if value is not None}


def next_audit_hash(previous: bytes, record: AuditRecord) -> bytes:
    return chain_hash(previous, leaf_hash(record.document()))
