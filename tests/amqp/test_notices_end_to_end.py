"""The ledger's notices through RabbitMQ to the platform (SPEC §5, §9): each delivered once,
held while the platform is down, never lost when the adapter stops, forgeries kept apart."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from adapters.base.intake import Intake
from adapters.base.notices import HttpNoticeSink, NoticeHandler, NoticeListener
from adapters.base.outbox.database import Outbox
from adapters.base.residents import ResidentSeal
from adapters.base.simulated_platform import NoticeRecorder
from adapters.lijiayuan import Mapper, generate, native_records, payload
from adapters.lijiayuan.simulator import deliver, native_record
from ledger.contract.notice import Notice, NoticeType, SignedNotice, sign_notice
from ledger.contract.resident_id import pseudonym, synthetic_id_number
from ledger.contract.signing import EventSigner
from ledger.contract.webhook import encode_private_key, encode_public_key, public_key_bytes
from ledger.infra.amqp.outbound import publish_notices
from ledger.runtime.topology import outbound_queue
from tests.amqp.support import declare, ready_messages, wait_until
from tests.support import TEST_PEPPER

pytestmark = pytest.mark.rabbitmq

PLATFORM = "lijiayuan"
LEDGER_KEY = Ed25519PrivateKey.generate()
SHANGHAI_OFFSET = timezone(timedelta(hours=8))
POINTSLEDGER = str(Path(sys.executable).parent / "pointsledger")


def _notice(number: int, resident: str, key: Ed25519PrivateKey = LEDGER_KEY) -> SignedNotice:
    return sign_notice(key, Notice(
        f"redemption:{number}", PLATFORM, NoticeType.REDEEMED, resident, 100 + number,
        datetime(2026, 11, 22, 10, number % 60, tzinfo=SHANGHAI_OFFSET), f"r-{number}",
        "XS-GUALI", f"XS-GUALI-20261122-{number:04d}", number))


@pytest.fixture
def outbox(tmp_path: Path) -> Iterator[Outbox]:
    box = Outbox(f"sqlite:///{tmp_path / 'outbox.sqlite3'}", PLATFORM)
    yield box
    box.close()


@pytest.fixture
def resident(outbox: Outbox) -> tuple[str, str]:
    """(ID number, pseudonym) of a resident whose points came through the adapter."""
    id_number = synthetic_id_number(random.Random(3))
    record = native_record("LJY1", id_number, "LJFL", 5, datetime.now(UTC) - timedelta(hours=1))
    Intake(Mapper(), outbox, EventSigner(Ed25519PrivateKey.generate()), TEST_PEPPER).accept(
        native_records(payload([record]), "test"))
    return id_number, pseudonym(id_number, TEST_PEPPER)


@contextmanager
def _listening(amqp_url: str, outbox: Outbox, url: str) -> Iterator[NoticeListener]:
    handler = NoticeHandler(PLATFORM, public_key_bytes(LEDGER_KEY), outbox,
                            ResidentSeal(TEST_PEPPER), HttpNoticeSink(url))
    listener = NoticeListener(amqp_url, handler)
    stop = threading.Event()
    thread = threading.Thread(target=listener.run, args=(stop,), daemon=True)
    thread.start()
    try:
        yield listener
    finally:
        stop.set()
        thread.join(timeout=10)
        assert not thread.is_alive(), "the notice listener did not stop"


def test_each_notice_reaches_the_platform_once_and_forgeries_are_kept(
        amqp_url: str, outbox: Outbox, resident: tuple[str, str]) -> None:
    id_number, pseudonym_ = resident
    declare(amqp_url, [PLATFORM])
    notices = [_notice(number, pseudonym_) for number in range(1, 6)]
    forged = _notice(99, pseudonym_, key=Ed25519PrivateKey.generate())
    # The second copy of notice 1 is a broker redelivery or a republish after a lost confirm.
    publish_notices(amqp_url, [*notices, notices[0], forged])
    with NoticeRecorder() as recorder, _listening(amqp_url, outbox, recorder.url) as listener:
        wait_until(lambda: listener.handled == 7, 20, "7 notices handled")
    assert [notice["notice_id"] for notice in recorder.notices] == \
        [f"redemption:{number}" for number in range(1, 6)]
    assert {notice["id_number"] for notice in recorder.notices} == {id_number}
    assert [(kept.notice_id, kept.reason) for kept in outbox.notices.refused()] == \
        [("redemption:99", "bad_signature")]
    assert ready_messages(amqp_url, outbound_queue(PLATFORM)) == 0


def test_notices_wait_for_a_platform_that_is_down_and_survive_the_adapter_stopping(
        amqp_url: str, outbox: Outbox, resident: tuple[str, str]) -> None:
    _, pseudonym_ = resident
    declare(amqp_url, [PLATFORM])
    publish_notices(amqp_url, [_notice(number, pseudonym_) for number in range(1, 4)])
    with NoticeRecorder() as recorder:
        recorder.down = True
        with _listening(amqp_url, outbox, recorder.url) as listener:
            wait_until(lambda: recorder.attempts >= 2, 10, "a delivery retried")
            assert listener.handled == 0 and outbox.status()["notices_delivered"] == 0
        # Stopped while holding a notice: the broker keeps all three.
        wait_until(lambda: ready_messages(amqp_url, outbound_queue(PLATFORM)) == 3, 10,
                   "the held notices back in the queue")
        recorder.down = False
        with _listening(amqp_url, outbox, recorder.url) as listener:
            wait_until(lambda: listener.handled == 3, 20, "3 notices delivered")
    # Each once. Not necessarily in order: the notices the stopped listener held went back to
    # the quorum queue, which promises no order for returned messages (a notice names its own
    # redemption, so the platform needs none).
    assert sorted(notice["notice_id"] for notice in recorder.notices) == \
        ["redemption:1", "redemption:2", "redemption:3"]
    assert outbox.status()["notices_delivered"] == 3


@pytest.mark.slow
def test_adapter_run_delivers_notices_for_the_residents_it_has_seen(
        amqp_url: str, tmp_path: Path) -> None:
    """The CLI wiring: `adapter run --ledger-public-key --notify-url`, from records to notice."""
    key_file = tmp_path / "lijiayuan.key"
    key_file.write_text(encode_private_key(Ed25519PrivateKey.generate()) + "\n")
    environment = {**os.environ, "POINTSLEDGER_AMQP_URL": amqp_url,
                   "POINTSLEDGER_RESIDENT_PEPPER": TEST_PEPPER,
                   "POINTSLEDGER_LEDGER_PUBLIC_KEY": encode_public_key(
                       public_key_bytes(LEDGER_KEY))}
    records = generate(random.Random(8), 20, 0, datetime.now(UTC))
    id_number = records[0]["sfzh"]
    # As `amqp setup` does in a deployment: the notice must not race the adapter's own declaring.
    declare(amqp_url, [PLATFORM])
    with NoticeRecorder() as recorder:
        adapter = subprocess.Popen(
            [POINTSLEDGER, "adapter", "run", PLATFORM, "--key-file", str(key_file),
             "--listen", "127.0.0.1:0", "--notify-url", recorder.url,
             "--outbox", f"sqlite:///{tmp_path / 'outbox.sqlite3'}"],
            env=environment, stderr=subprocess.PIPE, text=True)
        try:
            address = _listening_address(adapter)
            deliver(records, f"http://{address}/webhook")
            publish_notices(amqp_url, [_notice(1, pseudonym(id_number, TEST_PEPPER))])
            wait_until(lambda: len(recorder.notices) == 1, 30, "the notice at the platform")
            adapter.send_signal(signal.SIGTERM)
            assert adapter.wait(timeout=20) == 0
        finally:
            if adapter.poll() is None:
                adapter.kill()
                adapter.wait()
            assert adapter.stderr is not None
            adapter.stderr.close()
    assert recorder.notices[0]["id_number"] == id_number
    status = subprocess.run(
        [POINTSLEDGER, "adapter", "status", PLATFORM,
         "--outbox", f"sqlite:///{tmp_path / 'outbox.sqlite3'}"],
        env=environment, capture_output=True, text=True, check=True)
    assert json.loads(status.stdout)["notices_delivered"] == 1


def _listening_address(adapter: subprocess.Popen[str]) -> str:
    """The adapter logs the address it receives webhooks on (port 0 picks a free one)."""
    assert adapter.stderr is not None
    stderr = adapter.stderr
    for line in stderr:
        if "receives" in line and "http://" in line:
            # Keep reading its log, so that a full pipe never blocks the adapter.
            threading.Thread(target=stderr.read, daemon=True).start()
            return line.split("http://", 1)[1].split("/", 1)[0]
    raise AssertionError("the adapter exited before listening")
