"""The ledger's notices, from `pointsledger.outbound.{platform}` to the platform (SPEC §5, §9).

Each notice is verified against the ledger's public key (never a key from the message), turned
back into the platform's own terms (the resident's ID number, opened from the adapter's sealed
directory) and handed to the platform's sink; then it is journaled in the outbox and acked.

- Nothing is lost: a notice is acked only once it was delivered or refused and journaled. While
  the platform cannot take it, the listener holds it and retries with back-off.
- Each notice is applied once: a notice id already delivered is acked without delivering it
  again. A crash between delivering and journaling delivers it again, with the same
  `notice_id`, by which the platform recognises it.
- The outbox busy and the broker or the platform unavailable are waited out; anything else ends
  `NoticeListener.run` with the exception, which stops the adapter (adapters.base.adapter).
- Nothing is dropped: a refused notice (bad signature, another platform's, malformed, a resident
  the adapter never saw, or one the platform itself refuses) is kept with its raw bytes, headers
  and reason, and listed by `pointsledger adapter quarantine`.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import os
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

import pika
from pika.adapters.blocking_connection import BlockingChannel
from sqlalchemy.exc import SQLAlchemyError

from adapters.base.failures import described, is_transient
from adapters.base.outbox.database import Outbox
from adapters.base.outbox.notices import NOTICE_DELIVERED, NOTICE_REFUSED
from adapters.base.redaction import quoted
from adapters.base.residents import ResidentSeal, SealBroken
from ledger.contract.notice import Notice, NoticeRefusal, NoticeRefused, verify_notice
from ledger.contract.personal_data import (
    holds_id_number,
    mask_id_numbers,
    mask_id_numbers_in_bytes,
)
from ledger.contract.webhook import HEADER_NAMES
from ledger.runtime.broker import BROKER_ERRORS, describe_broker_error, header_text
from ledger.runtime.retry import RETRY_DELAY_S_MIN, GaveUp, Outage, pause_until, retry_call
from ledger.runtime.topology import (
    connection_parameters,
    declare_outbound_topology,
    outbound_queue,
)

log = logging.getLogger(__name__)

PREFETCH_COUNT = 20
IDLE_CHECK_S = 0.5
DELIVERY_TIMEOUT_S = 10.0


class SinkUnavailable(Exception):
    """The platform could not take the notice now; it is kept and delivered later."""


class SinkRefused(Exception):
    """The platform answered that it will never take this notice (a client error)."""


class NoticeSink(Protocol):
    def deliver(self, notice: Notice, id_number: str) -> None:
        """Return once the platform has the notice; raise SinkUnavailable or SinkRefused."""


def delivered_document(notice: Notice, id_number: str) -> dict[str, Any]:
    """What the platform receives: the notice in its own terms (an ID number, not a pseudonym)."""
    return {"notice_id": notice.notice_id, "type": notice.type.value, "id_number": id_number,
            "points": notice.points, "occurred_at": notice.occurred_at.isoformat(),
            "redemption_id": notice.redemption_id, "branch": notice.branch,
            "receipt_no": notice.receipt_no}


class HttpNoticeSink:
    """POSTs each notice as JSON to the platform's notice endpoint."""

    def __init__(self, url: str, timeout_s: float = DELIVERY_TIMEOUT_S) -> None:
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"the notice URL must be http(s)://…, not {url!r}")
        self.url = url
        self._timeout_s = timeout_s

    def deliver(self, notice: Notice, id_number: str) -> None:
        body = json.dumps(delivered_document(notice, id_number), ensure_ascii=False).encode()
        request = urllib.request.Request(  # noqa: S310 (the scheme is checked above)
            self.url, data=body, method="POST",
            headers={"content-type": "application/json", "idempotency-key": notice.notice_id})
        try:
            with urllib.request.urlopen(request, timeout=self._timeout_s):  # noqa: S310
                return
        except urllib.error.HTTPError as error:
            error.close()
            # Timeouts and rate limits pass; any other client error will not.
            if 400 <= error.code < 500 and error.code not in (408, 429):
                raise SinkRefused(f"the platform answered {error.code}") from None
            raise SinkUnavailable(f"the platform answered {error.code}") from None
        except (urllib.error.URLError, OSError) as error:
            raise SinkUnavailable(f"the platform is not reachable ({type(error).__name__})") \
                from None


def http_notice_sink(platform: str, url: str | None) -> HttpNoticeSink:
    if url is None:
        raise ValueError(f"{platform} takes the ledger's notices over HTTP: give --notify-url URL")
    return HttpNoticeSink(url)


NOTICE_CSV_HEADER = ("通知号", "身份证号", "类型", "积分", "发生时间", "网点", "凭证号")
NOTICE_TYPE_LABELS = {"points.redeemed": "兑换", "points.redemption_reversed": "兑换撤销"}


class DirectoryNoticeSink:
    """For platforms that exchange files: one GBK CSV per day in a directory they collect,
    the platform's own encoding and header, appended and flushed to disk notice by notice."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)

    def deliver(self, notice: Notice, id_number: str) -> None:
        path = self.directory / f"notices-{notice.occurred_at:%Y%m%d}.csv"
        row = io.StringIO()
        writer = csv.writer(row, lineterminator="\r\n")
        if not path.exists():
            writer.writerow(NOTICE_CSV_HEADER)
        writer.writerow((notice.notice_id, id_number, NOTICE_TYPE_LABELS[notice.type.value],
                         notice.points, f"{notice.occurred_at:%Y-%m-%d %H:%M:%S}",
                         notice.branch, notice.receipt_no))
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            with path.open("ab") as handle:
                handle.write(row.getvalue().encode("gbk"))
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as error:
            raise SinkUnavailable(f"cannot write {path} ({type(error).__name__})") from None


class NoticeHandler:
    """One notice: verify, translate, deliver, journal. Broker-agnostic, so tests and the demo
    can drive it directly."""

    def __init__(self, platform: str, ledger_public_key: bytes, outbox: Outbox,
                 seal: ResidentSeal, sink: NoticeSink) -> None:
        self.platform = platform
        self._ledger_public_key = ledger_public_key
        self._outbox = outbox
        self._seal = seal
        self._sink = sink

    def handle(self, body: bytes, headers: Mapping[str, str]) -> str:
        """`delivered`, `duplicate` or `refused`; raises SinkUnavailable (nothing journaled:
        the caller keeps the notice and retries)."""
        try:
            notice = verify_notice(body, headers, self._ledger_public_key, self.platform)
            if self._outbox.notices.delivered(notice.notice_id):
                return "duplicate"
            id_number = self._id_number(notice.resident)
            try:
                self._sink.deliver(notice, id_number)
            except SinkRefused as error:
                raise NoticeRefused(NoticeRefusal.PLATFORM_REFUSED, str(error)) from None
        except NoticeRefused as refusal:
            kept, detail = _masked_for_keeping(body, refusal.detail)
            notice_id = _readable_id(headers)
            self._outbox.notices.record(notice_id, NOTICE_REFUSED, refusal.reason.value, detail,
                                       kept, {name: mask_id_numbers(value)
                                              for name, value in headers.items()})
            log.warning("notice %s refused: %s (%s)", quoted(notice_id), refusal.reason.value,
                        detail)
            return "refused"
        self._outbox.notices.record(notice.notice_id, NOTICE_DELIVERED, None, "", body,
                                   dict(headers))
        return "delivered"

    def _id_number(self, resident: str) -> str:
        sealed = self._outbox.residents.sealed_id_number(resident)
        if sealed is None:
            raise NoticeRefused(NoticeRefusal.UNKNOWN_RESIDENT,
                                f"no record of resident {resident[:12]}… came through this "
                                "adapter")
        try:
            return self._seal.open(resident, sealed)
        except SealBroken as error:
            raise NoticeRefused(NoticeRefusal.UNKNOWN_RESIDENT, str(error)) from None


def _readable_id(headers: Mapping[str, str]) -> str | None:
    """The webhook-id for the journal, only when it is a plausible id (it is not yet verified)
    and holds no ID number."""
    value = headers.get("webhook-id")
    if not value or len(value) > 64 or not value.isprintable() or holds_id_number(value):
        return None
    return value


def _masked_for_keeping(body: bytes, detail: str) -> tuple[bytes, str]:
    """A refused notice as it may be kept: ID numbers masked (SPEC §4.5; the ledger never puts
    one in a notice, so only a forgery holds one), and then the SHA-256 of what arrived."""
    kept = mask_id_numbers_in_bytes(body)
    detail = mask_id_numbers(detail)
    if kept != body:
        detail = f"{detail} (ID numbers masked; SHA-256 of the body received: " \
                 f"{hashlib.sha256(body).hexdigest()})"
    return kept, detail


class NoticeListener:
    """Consumes the platform's outbound queue until `stop` is set; reconnects with back-off."""

    def __init__(self, amqp_url: str, handler: NoticeHandler) -> None:
        self._amqp_url = amqp_url
        self._handler = handler
        self._queue = outbound_queue(handler.platform)
        self._role = f"adapter-{handler.platform}-notices"
        self._broker = Outage(log, "notices: %s; reconnecting with back-off",
                              "notices: connected again after %.1f s",
                              describe=describe_broker_error)
        self.handled = 0

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                connection, channel = retry_call(self._connect, transient=_broker_error,
                                                 outage=self._broker, pause=pause_until(stop))
            except GaveUp:
                return
            try:
                self._consume(connection, channel, stop)
            except BROKER_ERRORS as error:
                # The connection dropped: said once; the reconnection says when it is back.
                self._broker.failed(error, RETRY_DELAY_S_MIN)
                stop.wait(RETRY_DELAY_S_MIN)

    def _connect(self) -> tuple[pika.BlockingConnection, BlockingChannel]:
        connection = pika.BlockingConnection(connection_parameters(self._amqp_url, self._role))
        try:
            channel = connection.channel()
            declare_outbound_topology(channel, [self._handler.platform])
            channel.basic_qos(prefetch_count=PREFETCH_COUNT)
        except BaseException:
            if connection.is_open:
                connection.close()
            raise
        return connection, channel

    def _consume(self, connection: pika.BlockingConnection, channel: BlockingChannel,
                 stop: threading.Event) -> None:
        try:
            for method, properties, body in channel.consume(self._queue,
                                                            inactivity_timeout=IDLE_CHECK_S):
                if stop.is_set():
                    break
                if method is None:
                    continue
                if not self._deliver(connection, properties, body, stop):
                    break  # stopping with the notice in hand: the broker gives it back
                channel.basic_ack(method.delivery_tag)
                self.handled += 1
        finally:
            if connection.is_open:
                connection.close()  # unacked notices return to the queue

    def _deliver(self, connection: pika.BlockingConnection, properties: pika.BasicProperties,
                 body: bytes, stop: threading.Event) -> bool:
        """Handle one notice, holding it while the platform is unavailable or the outbox busy.
        False if stopped."""
        headers = {str(name).lower(): header_text(value)
                   for name, value in (properties.headers or {}).items()
                   if str(name).lower() in HEADER_NAMES and value is not None}

        def pause(delay_s: float) -> bool:
            _sleep_unless_stopped(connection, delay_s, stop)
            return not stop.is_set()

        held = Outage(log, "notice held: %s; retrying with back-off",
                      "the notice held was handled after %.1f s", describe=_why_held)
        try:
            retry_call(lambda: self._handler.handle(bytes(body), headers),
                       transient=_passes_by_itself, outage=held, pause=pause)
        except GaveUp:
            return False
        return True


def _broker_error(error: BaseException) -> bool:
    return isinstance(error, BROKER_ERRORS)


def _passes_by_itself(error: BaseException) -> bool:
    """The platform unavailable, or the outbox busy; any other failure of the outbox stops the
    adapter: a notice listener that cannot journal is dead."""
    if isinstance(error, SinkUnavailable):
        return True
    return isinstance(error, SQLAlchemyError) and is_transient(error)


def _why_held(error: BaseException) -> str:
    if isinstance(error, SQLAlchemyError):
        return f"the outbox is busy ({described(error)})"
    return str(error)


def _sleep_unless_stopped(connection: pika.BlockingConnection, delay_s: float,
                          stop: threading.Event) -> None:
    """Wait, keeping the connection's heartbeats going (a blocked thread would miss them and
    the broker would drop us), and wake early on stop."""
    deadline = time.monotonic() + delay_s
    while not stop.is_set() and (left_s := deadline - time.monotonic()) > 0:
        connection.sleep(min(left_s, IDLE_CHECK_S))
