"""Stage two of ingestion: decide each verified event against the ledger and append, in bulk.

One transaction per batch: the chain head is locked, the history the batch needs is read in a
few queries (`ledger.infra.db.history`), every event is decided in order by
`ledger.domain.deciding` (so duplicates and revocations inside one batch are seen), then
entries, rejections and projections are written together. Either all of it is committed or none
of it: a consumer acks only after that commit.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from ledger.contract.categories import EntryKind
from ledger.contract.personal_data import mask_id_numbers, mask_id_numbers_in_bytes
from ledger.domain.deciding import Decision, Recorded, decide_in_order, needs_of
from ledger.domain.outcomes import Outcome, Status
from ledger.domain.verification import Delivery, VerifiedEvent
from ledger.infra.db.bulk import insert_rows
from ledger.infra.db.history import load_history
from ledger.infra.db.locks import lock_chain_head
from ledger.infra.db.models import LedgerEntryRow, Rejection
from ledger.service.platform_seq import record_platform_seqs
from ledger.service.projections import ProjectionDeltas
from ledger.service.tree import grow_tree

REJECTED_BODY_KEPT_MAX_BYTES = 64 * 1024
# Masked before it is cut, with room for the longest ID number written with JSON escapes and
# separators, so that a number straddling the cut is masked whole.
REJECTED_BODY_MASKED_MAX_BYTES = REJECTED_BODY_KEPT_MAX_BYTES + 256
HEADER_VALUE_KEPT_MAX_CHARS = 1024
HEADERS_KEPT_MAX = 32


class BatchAppender:
    """Decides and appends one batch inside the caller's transaction."""

    def __init__(self, session: Session, now: datetime) -> None:
        self._session = session
        self._now = now
        self._entry_rows: list[dict[str, Any]] = []
        self._leaf_hashes: list[bytes] = []
        self._rejection_rows: list[dict[str, Any]] = []
        self._recorded_seqs: defaultdict[str, list[int]] = defaultdict(list)
        self._deltas = ProjectionDeltas.empty()

    def decide(self, items: Sequence[VerifiedEvent | tuple[Delivery, Outcome]]) -> list[Outcome]:
        """Outcomes in input order; items already refused in stage one are only kept."""
        events = [item for item in items if isinstance(item, VerifiedEvent)]
        decided: Iterator[Decision] = iter(())
        if events:
            # Lock before reading history, so no other appender can slip in between.
            head = lock_chain_head(self._session)
            history = load_history(self._session, needs_of(events))
            decided = iter(decide_in_order(events, history, head, self._now))
        outcomes: list[Outcome] = []
        for item in items:
            if isinstance(item, VerifiedEvent):
                decision = next(decided)
                outcome = decision.outcome
                if decision.recorded is not None:
                    self._keep_entry(decision.recorded)
                elif outcome.status is Status.REJECTED:
                    outcome = self._keep_rejection(item.delivery, outcome)
            else:
                outcome = self._keep_rejection(*item)
            outcomes.append(outcome)
        self._flush()
        return outcomes

    def _keep_entry(self, recorded: Recorded) -> None:
        entry = recorded.entry
        self._entry_rows.append({**entry.__dict__, "entry_hash": recorded.entry_hash.hex()})
        self._leaf_hashes.append(recorded.leaf_hash)
        assert entry.platform_seq is not None
        self._recorded_seqs[entry.platform].append(entry.platform_seq)
        self._deltas.add(EntryKind(entry.kind), entry.resident, entry.platform,
                         recorded.magnitude, recorded.counted_category, recorded.counted_at)

    def _keep_rejection(self, delivery: Delivery, outcome: Outcome) -> Outcome:
        """Keep a refused event, masked first (SPEC §4.5): a refused body may hold anything, and
        a rejection, like an entry, is never erased. The refusal as answered is masked too."""
        assert outcome.reason is not None
        masked = masked_outcome(outcome)
        body = mask_id_numbers_in_bytes(delivery.body[:REJECTED_BODY_MASKED_MAX_BYTES])
        self._rejection_rows.append({
            "received_at": self._now,
            "channel": delivery.channel,
            "reason": outcome.reason.value,
            "detail": masked.detail,
            "errors": masked.errors or None,
            "platform": masked.platform,
            "event_id": masked.event_id,
            "body": body[:REJECTED_BODY_KEPT_MAX_BYTES],
            "body_size": len(delivery.body),
            "body_sha256": hashlib.sha256(delivery.body).hexdigest(),
            "headers": {mask_id_numbers(name): mask_id_numbers(value)
                        for name, value in bounded_headers(delivery.headers).items()},
        })
        return masked

    def _flush(self) -> None:
        session = self._session
        insert_rows(session, LedgerEntryRow.__table__, self._entry_rows)  # type: ignore[arg-type]
        if self._entry_rows:
            grow_tree(session, self._entry_rows[0]["seq"], self._leaf_hashes)
        if self._rejection_rows:
            session.execute(insert(Rejection), self._rejection_rows)
        for platform, seqs in self._recorded_seqs.items():
            record_platform_seqs(session, platform, seqs)
        self._deltas.write(session)


def masked_outcome(outcome: Outcome) -> Outcome:
    """The outcome with every ID-number-shaped run in what it quotes masked: the detail, the
    field errors (their names come from the body too) and the identity read from the body."""
    def mask(text: str | None) -> str | None:
        return None if text is None else mask_id_numbers(text)

    return replace(outcome, detail=mask_id_numbers(outcome.detail),
                   platform=mask(outcome.platform), event_id=mask(outcome.event_id),
                   errors={mask_id_numbers(field): mask_id_numbers(problem)
                           for field, problem in outcome.errors.items()})


def bounded_headers(headers: Any) -> dict[str, str]:
    kept: dict[str, str] = {}
    for name, value in list(headers.items())[:HEADERS_KEPT_MAX]:
        kept[str(name).lower()[:HEADER_VALUE_KEPT_MAX_CHARS]] = str(value)[
            :HEADER_VALUE_KEPT_MAX_CHARS]
    return kept
