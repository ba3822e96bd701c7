"""Publishes the outbox of signed notices to `pointsledger.outbound` (SPEC §5, §9).

Notices are written in the transaction of the redemption they tell; this relay sends them
oldest first with confirms and `mandatory`, and marks each published only once the broker
confirmed it. While the broker is down the notices wait in the outbox and the relay retries
(`retry_call`: capped back-off with jitter). A crash between the confirm and the mark sends a
notice again with the same `notice_id`, which the platform's adapter applies once.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime

import pika
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from ledger.infra.db.models import OutboundNotice
from ledger.runtime.broker import BROKER_ERRORS, describe_broker_error
from ledger.runtime.metrics import NOTICE_RELAY_FAILURES, NOTICES_RELAYED
from ledger.runtime.pipelined import OutgoingMessage, PipelinedPublisher, PublishFailed
from ledger.runtime.retry import GaveUp, Outage, retry_call
from ledger.runtime.stopping import StopRequest
from ledger.runtime.topology import (
    OUTBOUND_EXCHANGE,
    connection_parameters,
    declare_outbound_topology,
)

log = logging.getLogger(__name__)

CONNECTION_ROLE = "notices"
BATCH_SIZE_MAX = 500
IDLE_WAIT_S = 1.0
RELAY_ERRORS: tuple[type[BaseException], ...] = (PublishFailed, *BROKER_ERRORS)


class NoticeRelay:
    def __init__(self, sessions: sessionmaker[Session], amqp_url: str,
                 clock: Callable[[], datetime]) -> None:
        self._sessions = sessions
        self._amqp_url = amqp_url
        self._clock = clock
        self._publisher: PipelinedPublisher | None = None
        self._declared: set[str] = set()
        self._stop = StopRequest()
        self._broker_outage = Outage(log, "cannot publish notices (%s); they wait in the outbox",
                                     "publishing notices again after %.1f s",
                                     describe=_describe_relay_error)
        self.published = 0

    def stop(self) -> None:
        """Safe from a signal handler (a flag, no lock): the loop ends after the batch in
        hand."""
        self._stop.request()

    def publish_pending(self) -> int:
        """Publish everything waiting now; raises PublishFailed or a broker error."""
        sent = 0
        while batch := self._pending():
            self._declare_queues({notice.platform for notice in batch})
            publisher = self._publisher or PipelinedPublisher(
                self._amqp_url, OUTBOUND_EXCHANGE, CONNECTION_ROLE)
            self._publisher = publisher
            try:
                publisher.publish([OutgoingMessage(notice.routing_key, notice.notice_id,
                                                   notice.body, dict(notice.headers))
                                   for notice in batch])
            except PublishFailed:
                self._close_publisher()
                raise
            self._mark_published([notice.id for notice in batch])
            for platform, count in Counter(notice.platform for notice in batch).items():
                NOTICES_RELAYED.labels(platform=platform).inc(count)
            sent += len(batch)
            self.published += len(batch)
        return sent

    def run(self) -> None:
        """Until stop(): publish, wait for news, and back off while the broker is down."""
        try:
            while not self._stop.requested:
                try:
                    retry_call(self._publish_or_forget_declared, transient=_relay_error,
                               outage=self._broker_outage, pause=self._stop.sleep)
                except GaveUp:
                    break
                self._stop.sleep(IDLE_WAIT_S)
        finally:
            self.close()

    def _publish_or_forget_declared(self) -> None:
        try:
            self.publish_pending()
        except RELAY_ERRORS:
            NOTICE_RELAY_FAILURES.inc()
            # The queues are declared again on the next connection: one may have gone meanwhile.
            self._declared.clear()
            raise

    def close(self) -> None:
        """Close the broker connection kept between batches."""
        self._close_publisher()

    def _pending(self) -> Sequence[OutboundNotice]:
        with self._sessions() as session:
            return session.scalars(
                select(OutboundNotice).where(OutboundNotice.published_at.is_(None))
                .order_by(OutboundNotice.id).limit(BATCH_SIZE_MAX)).all()

    def _mark_published(self, ids: list[int]) -> None:
        with self._sessions.begin() as session:
            session.execute(update(OutboundNotice).where(OutboundNotice.id.in_(ids))
                            .values(published_at=self._clock()))

    def _declare_queues(self, platforms: set[str]) -> None:
        """Each platform's queue exists before its first notice (else `mandatory` refuses it
        as unroutable); declared once per connection."""
        missing = platforms - self._declared
        if not missing:
            return
        connection = pika.BlockingConnection(connection_parameters(self._amqp_url,
                                                                   CONNECTION_ROLE))
        try:
            declare_outbound_topology(connection.channel(), sorted(missing))
        finally:
            connection.close()
        self._declared |= missing

    def _close_publisher(self) -> None:
        publisher, self._publisher = self._publisher, None
        if publisher is not None:
            publisher.close()


def _relay_error(error: BaseException) -> bool:
    return isinstance(error, RELAY_ERRORS)


def _describe_relay_error(error: BaseException) -> str:
    return str(error) if isinstance(error, PublishFailed) else describe_broker_error(error)


def outbox_status(session: Session) -> dict[str, int]:
    pending = session.scalar(select(func.count()).select_from(OutboundNotice)
                             .where(OutboundNotice.published_at.is_(None))) or 0
    published = session.scalar(select(func.count()).select_from(OutboundNotice)
                               .where(OutboundNotice.published_at.is_not(None))) or 0
    return {"pending": pending, "published": published}
