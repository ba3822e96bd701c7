"""The adapters' events into the embedded ledger, through its real `POST /api/v1/events`.

In production an adapter's pump publishes to RabbitMQ; the demo has no broker, so its transport
posts each event's exact signed body and headers to the ledger's API (a Flask test client: no
port is opened) and counts what the ledger answered.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from flask.testing import FlaskClient

from adapters.base.outbox.events import PendingEvent
from ledger.contract.categories import EventType
from ledger.contract.signing import EventSigner

EVENTS_PATH = "/api/v1/events"
OUTCOME_BY_STATUS = {201: "recorded", 200: "duplicate"}
FORGED_POINTS = 500


class LedgerPoster:
    """Posts one platform's events and keeps the ledger's outcomes, e.g. `recorded`,
    `rejected (bad_signature)`."""

    def __init__(self, client: FlaskClient) -> None:
        self._client = client
        self.outcomes: Counter[str] = Counter()
        self.last_delivered: PendingEvent | None = None

    def deliver(self, events: Sequence[PendingEvent]) -> None:
        """The pump's DirectTransport: every event is taken once the ledger answered, even
        when it refused it (the ledger keeps the refusal; sending it again changes nothing)."""
        for event in events:
            self.post(event.body, event.headers)
            self.last_delivered = event

    def post(self, body: bytes, headers: Mapping[str, str]) -> str:
        response = self._client.post(EVENTS_PATH, data=body,
                                     headers={**headers, "content-type": "application/json"})
        answer = response.get_json(silent=True) or {}
        outcome = OUTCOME_BY_STATUS.get(response.status_code,
                                        f"rejected ({answer.get('code', response.status)})")
        self.outcomes[outcome] += 1
        return outcome

    def deliver_again(self) -> str:
        """The last event once more, as a broker redelivers after a lost confirm."""
        event = self._delivered()
        return self.post(event.body, event.headers)

    def forge(self, forger: EventSigner) -> str:
        """Someone without the platform's key tries to award points in its name."""
        event = self._delivered()
        document: dict[str, Any] = json.loads(event.body)
        document.pop("revokes", None)
        document.update(event_id=f"{event.event_id}.forged", seq=event.seq + 1,
                        type=EventType.AWARDED.value, points=FORGED_POINTS)
        signed = forger.sign(document)
        return self.post(signed.body, signed.headers)

    def _delivered(self) -> PendingEvent:
        if self.last_delivered is None:
            raise RuntimeError("no event was delivered to the ledger yet")
        return self.last_delivered
