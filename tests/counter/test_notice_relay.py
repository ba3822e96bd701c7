"""Each redemption's notice reaches its platform's queue once, signed by the ledger, also when
RabbitMQ was down when the teller served the resident (SPEC §5, §9)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pika
import pytest
from flask.testing import FlaskClient

from ledger.bootstrap import Ledger
from ledger.contract.notice import NoticeType, verify_notice
from ledger.contract.webhook import public_key_bytes
from ledger.infra.amqp.notice_relay import RELAY_ERRORS, NoticeRelay, outbox_status
from ledger.infra.amqp.topology import connection_parameters, outbound_queue
from tests.amqp.support import wait_until
from tests.counter.conftest import PLATFORM, RICE, Staff
from tests.support import RESIDENT_A, TEST_PEPPER

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

    relay = NoticeRelay(ledger.sessions, amqp_url, lambda: datetime.now(UTC))
    try:
        assert relay.publish_pending() == 4
        assert relay.publish_pending() == 0
    finally:
        relay.close()
    assert _status(ledger) == {"pending": 0, "published": 4}

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
