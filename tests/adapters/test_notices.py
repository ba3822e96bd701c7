"""An adapter handling the ledger's notices: verified, turned back into the platform's terms,
delivered once, and every refusal kept (SPEC §5, §9)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from adapters.base.intake import Intake
from adapters.base.notices import (
    DirectoryNoticeSink,
    HttpNoticeSink,
    NoticeHandler,
    SinkRefused,
    SinkUnavailable,
)
from adapters.base.outbox.database import Outbox
from adapters.base.residents import ResidentSeal
from adapters.base.simulated_platform import NoticeRecorder
from adapters.lijiayuan import Mapper, native_records, payload
from adapters.lijiayuan.simulator import native_record
from ledger.contract.notice import Notice, NoticeType, sign_notice
from ledger.contract.resident_id import pseudonym
from ledger.contract.signing import EventSigner
from ledger.contract.webhook import public_key_bytes
from tests.support import TEST_PEPPER

LEDGER_KEY = Ed25519PrivateKey.generate()
SHANGHAI_OFFSET = timezone(timedelta(hours=8))


class FakeSink:
    """Records deliveries; `failure` makes the next deliveries raise it."""

    def __init__(self) -> None:
        self.delivered: list[tuple[Notice, str]] = []
        self.failure: Exception | None = None

    def deliver(self, notice: Notice, id_number: str) -> None:
        if self.failure is not None:
            raise self.failure
        self.delivered.append((notice, id_number))


@pytest.fixture
def outbox(tmp_path: Path) -> Iterator[Outbox]:
    box = Outbox(f"sqlite:///{tmp_path / 'outbox.sqlite3'}", "lijiayuan")
    yield box
    box.close()


@pytest.fixture
def known_resident(outbox: Outbox, resident_id: str, key_pair_signer: EventSigner) -> str:
    """A resident whose points came through this adapter: it now knows their ID number."""
    record = native_record("LJY1", resident_id, "LJFL", 5, datetime.now(UTC) - timedelta(hours=1))
    Intake(Mapper(), outbox, key_pair_signer, TEST_PEPPER).accept(
        native_records(payload([record]), "test"))
    return pseudonym(resident_id, TEST_PEPPER)


def _handler(outbox: Outbox, sink: Any, platform: str = "lijiayuan") -> NoticeHandler:
    return NoticeHandler(platform, public_key_bytes(LEDGER_KEY), outbox,
                         ResidentSeal(TEST_PEPPER), sink)


def _signed(resident: str, notice_id: str = "redemption:1", key: Ed25519PrivateKey = LEDGER_KEY,
            kind: NoticeType = NoticeType.REDEEMED) -> tuple[bytes, dict[str, str]]:
    notice = Notice(notice_id, "lijiayuan", kind, resident, 120,
                    datetime(2026, 11, 22, 10, 30, tzinfo=SHANGHAI_OFFSET), "r-1", "XS-GUALI",
                    "XS-GUALI-20261122-0001", 9)
    signed = sign_notice(key, notice)
    return signed.body, signed.headers


def test_a_notice_reaches_the_platform_with_the_residents_id_number_once(
        outbox: Outbox, known_resident: str, resident_id: str) -> None:
    sink = FakeSink()
    handler = _handler(outbox, sink)
    body, headers = _signed(known_resident)
    assert handler.handle(body, headers) == "delivered"
    assert handler.handle(body, headers) == "duplicate"
    assert [(notice.notice_id, number) for notice, number in sink.delivered] == \
        [("redemption:1", resident_id)]
    assert outbox.status()["notices_delivered"] == 1


def test_the_outbox_holds_no_id_number_in_clear(tmp_path: Path, outbox: Outbox,
                                                  known_resident: str, resident_id: str) -> None:
    assert outbox.residents.sealed_id_number(known_resident) is not None
    outbox.close()
    assert resident_id.encode() not in (tmp_path / "outbox.sqlite3").read_bytes()


@pytest.mark.parametrize("case", ["forged", "other_platform", "unknown_resident", "garbage"])
def test_every_refused_notice_is_kept_with_its_reason(outbox: Outbox, known_resident: str,
                                                      case: str) -> None:
    sink = FakeSink()
    if case == "forged":
        body, headers = _signed(known_resident, key=Ed25519PrivateKey.generate())
        handler, reason = _handler(outbox, sink), "bad_signature"
    elif case == "other_platform":
        body, headers = _signed(known_resident)
        handler, reason = _handler(outbox, sink, "pingan_gongfu"), "wrong_platform"
    elif case == "unknown_resident":
        body, headers = _signed("cd" * 32)
        handler, reason = _handler(outbox, sink), "unknown_resident"
    else:
        body, headers = b"\xff not json", {"webhook-id": "x"}
        handler, reason = _handler(outbox, sink), "bad_signature"
    assert handler.handle(body, headers) == "refused"
    assert sink.delivered == []
    [kept] = outbox.notices.refused()
    assert (kept.reason, kept.body) == (reason, body)
    assert kept.document()["location"].startswith("notice ")
    assert outbox.status()["notices_refused"] == 1


def test_a_platform_that_cannot_take_it_now_gets_it_later(outbox: Outbox,
                                                          known_resident: str) -> None:
    sink = FakeSink()
    sink.failure = SinkUnavailable("down")
    handler = _handler(outbox, sink)
    body, headers = _signed(known_resident)
    with pytest.raises(SinkUnavailable):
        handler.handle(body, headers)
    assert outbox.status()["notices_delivered"] == outbox.status()["notices_refused"] == 0
    sink.failure = None
    assert handler.handle(body, headers) == "delivered"
    assert len(sink.delivered) == 1


def test_a_notice_the_platform_refuses_is_kept(outbox: Outbox, known_resident: str) -> None:
    sink = FakeSink()
    sink.failure = SinkRefused("the platform answered 400")
    assert _handler(outbox, sink).handle(*_signed(known_resident)) == "refused"
    assert [notice.reason for notice in outbox.notices.refused()] == ["platform_refused"]


def test_the_http_sink_posts_the_document_and_tells_outages_from_refusals(
        outbox: Outbox, known_resident: str, resident_id: str) -> None:
    with NoticeRecorder() as recorder:
        handler = _handler(outbox, HttpNoticeSink(recorder.url))
        recorder.down = True
        with pytest.raises(SinkUnavailable):
            handler.handle(*_signed(known_resident, "redemption:1"))
        recorder.down = False
        assert handler.handle(*_signed(known_resident, "redemption:1")) == "delivered"
        assert handler.handle(*_signed(known_resident, "reversal:1",
                                       kind=NoticeType.REDEMPTION_REVERSED)) == "delivered"
        assert [(notice["notice_id"], notice["type"], notice["id_number"], notice["points"])
                for notice in recorder.notices] == [
            ("redemption:1", "points.redeemed", resident_id, 120),
            ("reversal:1", "points.redemption_reversed", resident_id, 120)]
        refusing = HttpNoticeSink(recorder.url.replace("/notices", "/nowhere"))
        with pytest.raises(SinkRefused):  # 404: the platform will never take it there
            refusing.deliver(Notice("n:1", "lijiayuan", NoticeType.REDEEMED, "ab" * 32, 1,
                                    datetime.now(UTC), "r", "b", "x", 1), resident_id)


def test_the_directory_sink_appends_to_a_daily_gbk_csv(tmp_path: Path, outbox: Outbox,
                                                       known_resident: str,
                                                       resident_id: str) -> None:
    handler = _handler(outbox, DirectoryNoticeSink(tmp_path / "notices"))
    handler.handle(*_signed(known_resident, "redemption:1"))
    handler.handle(*_signed(known_resident, "reversal:1", kind=NoticeType.REDEMPTION_REVERSED))
    text = (tmp_path / "notices" / "notices-20261122.csv").read_bytes().decode("gbk")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["通知号", "身份证号", "类型", "积分", "发生时间", "网点", "凭证号"]
    assert [row[:4] for row in rows[1:]] == [["redemption:1", resident_id, "兑换", "120"],
                                             ["reversal:1", resident_id, "兑换撤销", "120"]]
