"""Ingestion of signed point events: verify, then decide and append a batch in one transaction.

The same code path serves the embedded HTTP API, the broker consumer and the benchmarks.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from ledger.domain.outcomes import Outcome, Reason
from ledger.domain.verification import Delivery, VerifiedEvent, verify_delivery
from ledger.service.appending import BatchAppender
from ledger.service.keyring import Keyring, load_keyring, registered_keys

Clock = Callable[[], datetime]
# Runs first inside each append transaction; raises to refuse the batch (see ConsumerLock).
Guard = Callable[[Session], None]


def utc_now() -> datetime:
    return datetime.now(UTC)


class Ingestor:
    def __init__(self, sessions: sessionmaker[Session], clock_skew_s: int,
                 retired_key_grace_s: int, clock: Clock = utc_now) -> None:
        self._sessions = sessions
        self._clock_skew_s = clock_skew_s
        self._retired_key_grace = timedelta(seconds=retired_key_grace_s)
        self._clock = clock

    def keyring(self) -> Keyring:
        with self._sessions() as session:
            return load_keyring(session, self._retired_key_grace)

    def verify(self, deliveries: Sequence[Delivery],
               keyring: Keyring | None = None) -> list[VerifiedEvent | Outcome]:
        """Stage one, outside any write transaction: signatures are the expensive part."""
        keyring = keyring or self.keyring()
        now = self._clock()
        return [verify_delivery(delivery, keyring, now, self._clock_skew_s)
                for delivery in deliveries]

    def ingest(self, deliveries: Sequence[Delivery], *,
               verified: Sequence[VerifiedEvent | Outcome] | None = None,
               guard: Guard | None = None) -> list[Outcome]:
        """Every delivery's outcome, in order; all of it committed before this returns.

        `verified` is stage one already done for exactly these deliveries, so a consumer can
        verify the next batch (Ed25519 runs without the GIL) while this one is appended.
        """
        if verified is None:
            verified = self.verify(deliveries)
        with self._sessions.begin() as session:
            if guard is not None:
                guard(session)
            now = self._clock()
            items = _recheck_revocations(session, deliveries, verified, now,
                                         self._retired_key_grace)
            return BatchAppender(session, now).decide(items)

    def keep_rejections(self, refused: Sequence[tuple[Delivery, Outcome]]) -> list[Outcome]:
        """Store stage-one refusals (the broker-mode API), without touching the chain."""
        with self._sessions.begin() as session:
            return BatchAppender(session, self._clock()).decide(list(refused))


def _recheck_revocations(
    session: Session, deliveries: Sequence[Delivery],
    verified: Sequence[VerifiedEvent | Outcome], now: datetime, retired_key_grace: timedelta,
) -> list[VerifiedEvent | tuple[Delivery, Outcome]]:
    """A key revoked after stage one read the keyring refuses, at the moment of appending,
    what it no longer covers: a compromise declared while a batch was being verified counts."""
    keys = registered_keys(session, (item.key_id for item in verified
                                     if isinstance(item, VerifiedEvent)), retired_key_grace)
    items: list[VerifiedEvent | tuple[Delivery, Outcome]] = []
    for delivery, item in zip(deliveries, verified, strict=True):
        if isinstance(item, Outcome):
            items.append((delivery, item))
            continue
        key = keys.get(item.key_id)
        signed_at = datetime.fromtimestamp(item.webhook_timestamp, UTC)
        refusal = None if key is None else key.refusal(signed_at, now)
        if refusal is not None:
            items.append((delivery, Outcome.rejected(
                Reason.KEY_REVOKED, refusal, platform=item.envelope.platform,
                event_id=item.envelope.event_id)))
        else:
            items.append(item)
    return items
