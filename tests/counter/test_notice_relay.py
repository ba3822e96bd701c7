"""Each redemption's notice reaches its platform's queue once, signed by the ledger, also when
RabbitMQ was down when the teller served the resident (SPEC §5, §9)."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pika
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask.testing import FlaskClient
from prometheus_client import REGISTRY

from adapters.base.intake import Intake
from adapters.base.notices import HttpNoticeSink, NoticeHandler, NoticeListener
from adapters.base.outbox.database import Outbox
from adapters.base.residents import ResidentSeal
from adapters.base.simulated_platform import NoticeRecorder
from adapters.lijiayuan import Mapper, native_records, payload
from adapters.lijiayuan.simulator import native_record
from ledger.bootstrap import Ledger
from ledger.contract.notice import NoticeType, verify_notice
from ledger.contract.resident_id import pseudonym, synthetic_id_number
from ledger.contract.signing import EventSigner
from ledger.contract.webhook import public_key_bytes
from ledger.domain.outcomes import Status
from ledger.infra.amqp.notice_relay import RELAY_ERRORS, NoticeRelay, outbox_status
from ledger.runtime.topology import connection_parameters, outbound_queue
from tests.amqp.support import wait_until
from tests.counter.conftest import PLATFORM, RICE, Staff
from tests.support import RESIDENT_A, TEST_LOG_ORIGIN, TEST_PEPPER, PlatformFixture

pytestmark = [pytest.mark.rabbitmq]

# No broker listens there: what a teller's redemption meets while RabbitMQ is down.
UNREACHABLE_AMQP_URL = "amqp://guest:guest@127.0.0.1:1/%2F"
POINTSLEDGER = str(Path(sys.executable).parent / "pointsledger")
RELAY_TIMEOUT_S = 60


def _redeem(client: FlaskClient, staff: Staff, key: str) -> dict[str, Any]:
    response = client.post("/api/v1/redemptions", headers=staff.headers("teller-li", key),
                           json={"resident": RESIDENT_A, "platform": PLATFORM,
                                 "sku": RICE[0], "quantity": 1})
    assert response.status_code == 201, response.json
    document: dict[str, Any] = response.json
    return document


def _take_all(amqp_url: str, queue: str) -> list[tuple[bytes, dict[str, str]]]:
    connection = pika.BlockingConnection(connection_parameters(amqp_url, "test"))
    try:
        channel = connection.channel()
        taken = []
        while True:
            method, properties, body = channel.basic_get(queue, auto_ack=True)
            if method is None:
                return taken
            taken.append((body, {str(name): str(value)
                                 for name, value in (properties.headers or {}).items()}))
    finally:
        connection.close()


def _status(ledger: Ledger) -> dict[str, int]:
    with ledger.sessions() as session:
        return outbox_status(session)


def _relayed() -> float:
    return REGISTRY.get_sample_value("pointsledger_notices_relayed_total",
                                     {"platform": PLATFORM}) or 0.0


def test_notices_wait_out_a_broker_outage_and_arrive_once(
        ledger: Ledger, client: FlaskClient, counter: Staff, amqp_url: str) -> None:
    receipts = [_redeem(client, counter, f"outage-{index}") for index in range(3)]
    reversed_ = client.post(f"/api/v1/redemptions/{receipts[0]['redemption_id']}/reversal",
                            headers=counter.headers("supervisor-zhao"),
                            json={"reason": "changed her mind"})
    assert reversed_.status_code == 201

    down = NoticeRelay(ledger.sessions, UNREACHABLE_AMQP_URL, lambda: datetime.now(UTC))
    with pytest.raises(RELAY_ERRORS):
        down.publish_pending()
    down.close()
    assert _status(ledger) == {"pending": 4, "published": 0}

    relayed_before = _relayed()
    relay = NoticeRelay(ledger.sessions, amqp_url, lambda: datetime.now(UTC))
    try:
        assert relay.publish_pending() == 4
        assert relay.publish_pending() == 0
    finally:
        relay.close()
    assert _status(ledger) == {"pending": 0, "published": 4}
    # What `notices relay --metrics-listen` exports: the notices confirmed, once each.
    assert _relayed() == relayed_before + 4

    taken = _take_all(amqp_url, outbound_queue(PLATFORM))
    notices = [verify_notice(body, headers, public_key_bytes(ledger.ledger_key()), PLATFORM)
               for body, headers in taken]
    assert [(notice.type, notice.receipt_no) for notice in notices] == [
        *((NoticeType.REDEEMED, receipt["receipt_no"]) for receipt in receipts),
        (NoticeType.REDEMPTION_REVERSED, receipts[0]["receipt_no"])]
    assert len({notice.notice_id for notice in notices}) == 4


@pytest.mark.slow
def test_the_relay_command_publishes_until_sigterm(
        ledger: Ledger, client: FlaskClient, counter: Staff, amqp_url: str,
        database_url: str, tmp_path: Path) -> None:
    environment = {"POINTSLEDGER_DATABASE_URL": database_url,
                   "POINTSLEDGER_AMQP_URL": amqp_url,
                   "POINTSLEDGER_RESIDENT_PEPPER": TEST_PEPPER,
                   "POINTSLEDGER_LEDGER_KEY_FILE": str(ledger.settings.ledger_key_file),
                   "POINTSLEDGER_LOG_ORIGIN": TEST_LOG_ORIGIN,
                   "PATH": "/usr/bin:/bin"}
    log = (tmp_path / "relay.log").open("wb")
    relay = subprocess.Popen([POINTSLEDGER, "notices", "relay"], env=environment, stdout=log,
                             stderr=subprocess.STDOUT)
    try:
        receipt = _redeem(client, counter, "while-running")
        wait_until(lambda: _status(ledger) == {"pending": 0, "published": 1},
                   RELAY_TIMEOUT_S, "the relay to publish the notice")
        relay.send_signal(signal.SIGTERM)
        assert relay.wait(timeout=RELAY_TIMEOUT_S) == 0
    finally:
        if relay.poll() is None:
            relay.kill()
            relay.wait()
        log.close()
    ((body, headers),) = _take_all(amqp_url, outbound_queue(PLATFORM))
    notice = verify_notice(body, headers, public_key_bytes(ledger.ledger_key()), PLATFORM)
    assert notice.redemption_id == receipt["redemption_id"]
    status = subprocess.run([POINTSLEDGER, "notices", "status"], env=environment,
                            capture_output=True, text=True, timeout=60, check=True)
    assert json.loads(status.stdout) == {"pending": 0, "published": 1}


def test_the_platform_learns_of_a_redemption_once_through_its_adapter(
        ledger: Ledger, client: FlaskClient, counter: Staff, points_platform: PlatformFixture,
        amqp_url: str, tmp_path: Path) -> None:
    """The whole way: the resident's points came through 沥家园's adapter (which therefore knows
    her ID number), a teller redeems, the relay publishes, the adapter delivers to 沥家园."""
    id_number = synthetic_id_number(random.Random(5))
    resident = pseudonym(id_number, TEST_PEPPER)
    adapter_outbox = Outbox(f"sqlite:///{tmp_path / 'adapter.sqlite3'}", PLATFORM)
    try:
        record = native_record("LJY1", id_number, "LJFL", 5,
                               datetime.now(UTC) - timedelta(hours=1))
        Intake(Mapper(), adapter_outbox, EventSigner(Ed25519PrivateKey.generate()),
               TEST_PEPPER).accept(native_records(payload([record]), "counter test"))
        (outcome,) = ledger.ingestor.ingest([points_platform.delivery(resident=resident,
                                                                      points=200)])
        assert outcome.status is Status.RECORDED
        response = client.post("/api/v1/redemptions",
                               headers=counter.headers("teller-li", "e2e-1"),
                               json={"resident": resident, "platform": PLATFORM,
                                     "sku": RICE[0], "quantity": 2})
        assert response.status_code == 201, response.json

        relay = NoticeRelay(ledger.sessions, amqp_url, lambda: datetime.now(UTC))
        try:
            assert relay.publish_pending() == 1
        finally:
            relay.close()
        with NoticeRecorder() as recorder:
            handler = NoticeHandler(PLATFORM, public_key_bytes(ledger.ledger_key()),
                                    adapter_outbox, ResidentSeal(TEST_PEPPER),
                                    HttpNoticeSink(recorder.url))
            listener = NoticeListener(amqp_url, handler)
            stop = threading.Event()
            thread = threading.Thread(target=listener.run, args=(stop,), daemon=True)
            thread.start()
            try:
                wait_until(lambda: listener.handled == 1, RELAY_TIMEOUT_S,
                           "the notice at 沥家园")
            finally:
                stop.set()
                thread.join(timeout=10)
        (delivered,) = recorder.notices
        assert (delivered["id_number"], delivered["points"], delivered["type"],
                delivered["receipt_no"]) == (id_number, 80, "points.redeemed",
                                             response.json["receipt_no"])
    finally:
        adapter_outbox.close()
