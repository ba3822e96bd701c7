"""A platform sending a steady stream of signed events to RabbitMQ, for `bench console`: the
pages are timed while the consumer ingests, as on a working day.

The events are a county platform's (沥家园's points, in its simulator's shares), for residents of
the county, numbered on from the platform's last seq and signed with a key registered for the
run, each with the moment it is sent. A thread publishes them with confirms at a fixed rate:
each tick's events go out together, and a tick that falls behind (a slow confirm) is caught up
at the next, so the rate over a second holds.
"""

from __future__ import annotations

import random
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from ledger.bench import county
from ledger.bench.county import PlatformProfile
from ledger.contract.categories import EventType
from ledger.contract.signing import EventSigner
from ledger.runtime.pipelined import OutgoingMessage, PipelinedPublisher, PublishFailed
from ledger.runtime.topology import EVENTS_EXCHANGE

EVENTS_PER_S_DEFAULT = 200
TICKS_PER_S = 20
# One publish call lasts a segment at most: the publisher gives up on a call after its own
# timeout (300 s), and the timed part may last longer than that.
SEGMENT_S = 60.0
DEDUCTION_SHARE = 0.04
REVOCATION_SHARE = 0.02
REVOCABLE_AWARDS_MAX = 1000
OCCURRED_S_MAX = 86_400  # an event happened within the day before it is sent
SHANGHAI = timezone(timedelta(hours=8))
PUBLISHER_ROLE = "bench-platform"
STREAM_SEED = 20261201


class EventStream:
    """The platform's next events: seq after seq, for residents drawn from the county."""

    def __init__(self, signer: EventSigner, profile: PlatformProfile, first_seq: int,
                 residents: int, pepper: str) -> None:
        self._signer = signer
        self._profile = profile
        self._next_seq = first_seq
        self._residents = residents
        self._pepper = pepper
        self._rng = random.Random(STREAM_SEED)  # noqa: S311 (test data, not secrets)
        self._revocable: deque[dict[str, Any]] = deque(maxlen=REVOCABLE_AWARDS_MAX)
        self._shares = profile.cumulative_shares

    @property
    def next_seq(self) -> int:
        return self._next_seq

    def take(self, count: int) -> list[OutgoingMessage]:
        now = datetime.now(UTC)
        return [self._message(self._event(now), int(now.timestamp())) for _ in range(count)]

    def _event(self, now: datetime) -> dict[str, Any]:
        rng = self._rng
        seq, self._next_seq = self._next_seq, self._next_seq + 1
        code = self._profile.code
        event: dict[str, Any] = {
            "event_id": f"{self._profile.event_id_prefix}-live-{seq}", "platform": code,
            "seq": seq, "occurred_at": (now - timedelta(seconds=rng.randrange(OCCURRED_S_MAX)))
            .astimezone(SHANGHAI).replace(microsecond=0)}
        draw = rng.random()
        if draw < REVOCATION_SHARE and self._revocable:
            award = self._revocable.popleft()
            event.update(type=EventType.REVOKED.value, resident=award["resident"],
                         category=award["category"], points=award["points"],
                         revokes=award["event_id"])
            return event
        activity = self._profile.activities[_index(self._shares, rng.random())]
        resident = county.resident(rng.randrange(self._residents),
                                       pepper=self._pepper).pseudonym
        points = rng.randint(activity.points_min, activity.points_max)
        kind = (EventType.DEDUCTED if draw < REVOCATION_SHARE + DEDUCTION_SHARE
                else EventType.AWARDED)
        event.update(type=kind.value, resident=resident, category=activity.category,
                     points=points)
        if kind is EventType.AWARDED:
            self._revocable.append(event)
        return event

    def _message(self, event: dict[str, Any], timestamp: int) -> OutgoingMessage:
        signed = self._signer.sign(event, timestamp)
        return OutgoingMessage(f"{event['platform']}.{event['type']}", signed.event_id,
                               signed.body, signed.headers)


def _index(cumulative: list[float], draw: float) -> int:
    return next((index for index, bound in enumerate(cumulative) if draw < bound),
                len(cumulative) - 1)


class SteadyPublisher(threading.Thread):
    """Publishes `events_per_s` events of `stream` until `stop()`; `published` counts those the
    broker confirmed. A failure is kept in `failure` and ends the thread."""

    def __init__(self, amqp_url: str, stream: EventStream,
                 events_per_s: int = EVENTS_PER_S_DEFAULT) -> None:
        super().__init__(name="bench-steady-publisher", daemon=True)
        self._amqp_url = amqp_url
        self._stream = stream
        self._events_per_s = events_per_s
        self._stopping = threading.Event()
        self._started_at = 0.0
        self._sent = 0
        self.published = 0
        self.failure: str | None = None

    def stop(self) -> None:
        self._stopping.set()

    @property
    def seconds(self) -> float:
        """How long it has been publishing."""
        return time.perf_counter() - self._started_at if self._started_at else 0.0

    def run(self) -> None:
        # A window of one tick's events: each tick is sent, and confirmed, before the source
        # waits for the next one (with a larger window it would wait before they were sent).
        window = max(1, self._events_per_s // TICKS_PER_S)
        publisher = PipelinedPublisher(self._amqp_url, EVENTS_EXCHANGE, PUBLISHER_ROLE,
                                       window=window)
        self._started_at = time.perf_counter()
        try:
            while not self._stopping.is_set():
                publisher.publish_stream(*self._segment(window))
        except PublishFailed as error:
            self.failure = str(error)
        finally:
            publisher.close()

    def _segment(self, window: int) -> tuple[Callable[[], Sequence[OutgoingMessage]],
                                             Callable[[int], None]]:
        """The next segment's source of events, and what counts them once confirmed."""
        segment_end = time.perf_counter() + SEGMENT_S
        done_before = self.published

        def confirmed(count: int) -> None:
            self.published = done_before + count

        return lambda: self._next_tick(segment_end, window), confirmed

    def _next_tick(self, segment_end: float, window: int) -> Sequence[OutgoingMessage]:
        """The next tick's events, once they are due (a window: whole ticks fall due); none
        at the end of the segment or once stopped."""
        while not self._stopping.is_set():
            now = time.perf_counter()
            ticks_due = int((now - self._started_at) * TICKS_PER_S)
            if ticks_due * window > self._sent:
                self._sent += window
                return self._stream.take(window)
            if now >= segment_end:
                return ()
            time.sleep(1 / TICKS_PER_S)
        return ()
