"""南阳young: the adapter contract, plus its CSV file (GBK, BOM, CRLF, bad lines), deductions,
personal data kept out of events, and the inbox that imports each file once."""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import adapters.nanyang_young as nanyang_young
from adapters.base.intake import Intake
from adapters.base.outbox.database import Outbox
from adapters.nanyang_young.feed import HEADER
from adapters.nanyang_young.inbox import InboxSource
from adapters.nanyang_young.simulator import drop, generate, native_record
from ledger.contract.categories import EventType
from ledger.contract.signing import EventSigner
from tests.adapters.contract import NOW, AdapterContract

DAY = NOW - timedelta(days=2)


class TestNanyangYoungContract(AdapterContract):
    adapter = nanyang_young


@pytest.fixture
def outbox(tmp_path: Path) -> Iterator[Outbox]:
    box = Outbox(f"sqlite:///{tmp_path / 'outbox.sqlite3'}", nanyang_young.PLATFORM)
    yield box
    box.close()


@pytest.fixture
def intake(outbox: Outbox, key_pair_signer: EventSigner) -> Intake:
    return Intake(nanyang_young.Mapper(), outbox, key_pair_signer, "pepper-pepper-pepper",
                  clock=lambda: NOW)


def bodies(outbox: Outbox) -> list[dict[str, Any]]:
    return [json.loads(event.body) for event in outbox.events.pending(100)]


def test_a_gbk_file_with_bom_and_crlf_refuses_only_its_bad_lines(
        intake: Intake, outbox: Outbox, resident_id: str) -> None:
    good = nanyang_young.payload([native_record("N1", resident_id, "垃圾分类", 3, DAY),
                                  native_record("N2", resident_id, "志愿服务", 10, DAY)])
    header, first, second, _ = good.split(b"\r\n")
    not_gbk = b"N3," + resident_id.encode() + b",\xff\xff,\xc0\xac,1,2026-11-18,"
    too_few = "N4,".encode("gbk") + resident_id.encode() + ",平安巡逻,5".encode("gbk")
    data = b"\r\n".join([b"\xef\xbb\xbf" + header, first, not_gbk, b"", too_few, second, b""])
    records = nanyang_young.native_records(data, "nanyang.csv")
    assert [record.location for record in records] == [
        "nanyang.csv line 2", "nanyang.csv line 3", "nanyang.csv line 5", "nanyang.csv line 6"]
    assert [record.unreadable is None for record in records] == [True, False, False, True]
    report = intake.accept(records)
    assert report.accepted == 2
    assert [(entry["location"], entry["reason"]) for entry in report.quarantined] == [
        ("nanyang.csv line 3", "bad_record"), ("nanyang.csv line 5", "bad_record")]
    assert resident_id not in "".join(record.record for record in outbox.quarantine.records())


def test_a_cell_broken_over_two_lines_is_refused_as_two_bad_lines_and_the_rest_imported(
        intake: Intake, resident_id: str) -> None:
    """The exports never break a cell over lines; a file that does (a memo typed with Enter
    and saved by hand) is quarantined where it breaks, and its other lines still count."""
    broken = {**native_record("N2", resident_id, "志愿服务", 10, DAY), "备注": "第一行\r\n第二行"}
    records = [native_record("N1", resident_id, "垃圾分类", 3, DAY), broken,
               native_record("N3", resident_id, "平安巡逻", 5, DAY)]
    data = nanyang_young.payload(records)
    assert data.count(b"\r\n") == 5  # header, three records, and the break inside the memo

    parsed = nanyang_young.native_records(data, "nanyang.csv")
    report = intake.accept(parsed)

    assert report.accepted == 2
    assert [(entry["location"], entry["reason"], entry["detail"])
            for entry in report.quarantined] == [
        ("nanyang.csv line 3", "bad_record",
         "the line is not well-formed CSV (unexpected end of data)"),
        ("nanyang.csv line 4", "bad_record", "the line has 1 cells, the header 7")]


def test_a_file_with_another_header_is_one_unreadable_record() -> None:
    (record,) = nanyang_young.native_records("编号,姓名\r\n1,张伟\r\n".encode("gbk"), "x.csv")
    assert record.location == "x.csv"
    assert record.unreadable is not None and "流水号" in record.unreadable


def test_a_file_resaved_as_utf8_is_still_read(resident_id: str) -> None:
    text = nanyang_young.payload([native_record("U1", resident_id, "知识竞赛", 4, DAY)])
    data = b"\xef\xbb\xbf" + text.decode("gbk").encode("utf-8")
    (record,) = nanyang_young.native_records(data, "u.csv")
    assert record.fields["积分类型"] == "知识竞赛"


def test_a_negative_score_is_a_deduction_of_its_magnitude_at_the_start_of_its_shanghai_day(
        intake: Intake, outbox: Outbox, resident_id: str) -> None:
    row = native_record("D1", resident_id, "垃圾分类", 3, "2026/11/18", EventType.DEDUCTED)
    assert row["积分"] == -3
    intake.accept(nanyang_young.native_records(nanyang_young.payload([row]), "d.csv"))
    (body,) = bodies(outbox)
    assert (body["type"], body["points"], body["category"]) == (
        "points.deducted", 3, "garbage_sorting")
    assert datetime.fromisoformat(body["occurred_at"]) == datetime(2026, 11, 17, 16, tzinfo=UTC)


def test_name_and_memo_never_reach_the_event(intake: Intake, outbox: Outbox,
                                             resident_id: str) -> None:
    row = native_record("P1", resident_id, "邻里互助", 6, DAY)
    row.update({"姓名": "欧阳娜娜", "备注": "帮助独居老人买菜"})
    intake.accept(nanyang_young.native_records(nanyang_young.payload([row]), "p.csv"))
    (event,) = outbox.events.pending(10)
    text = event.body.decode("utf-8")
    assert "欧阳娜娜" not in text and "帮助独居老人买菜" not in text
    assert "memo" not in json.loads(text)


def test_the_simulator_makes_files_the_adapter_reads(intake: Intake) -> None:
    records = generate(random.Random(3), 80, 4, NOW)
    report = intake.accept(nanyang_young.native_records(nanyang_young.payload(records), "s"))
    assert report.accepted == 80
    assert sorted(entry["reason"] for entry in report.quarantined) == [
        "bad_date", "bad_id_number", "bad_points", "unknown_category"]


def test_a_file_dropped_again_under_another_name_is_not_imported_again(
        tmp_path: Path, intake: Intake, outbox: Outbox, resident_id: str) -> None:
    inbox = tmp_path / "inbox"
    source = InboxSource(inbox, 1.0, outbox)
    rows = [native_record("F1", resident_id, "平安巡逻", 8, DAY),
            native_record("F2", resident_id, "NO-SUCH", 8, DAY)]
    drop(rows, inbox, "nanyang-20261118.csv")
    source.scan(intake, lambda: None)
    first = json.loads((inbox / "nanyang-20261118.csv.report.json").read_text("utf-8"))
    assert (first["accepted"], first["already_imported"]) == (1, False)
    assert [entry["location"] for entry in first["quarantined"]] == ["nanyang-20261118.csv line 3"]
    drop(rows, inbox, "copy.csv")
    source.scan(intake, lambda: None)
    again = json.loads((inbox / "copy.csv.report.json").read_text("utf-8"))
    assert again["already_imported"] is True
    assert (again["first_file"], again["first_imported_at"]) == (
        "nanyang-20261118.csv", first["imported_at"])
    assert outbox.status()["last_seq"] == 1 and outbox.status()["quarantined"] == 1
    assert sorted(path.name for path in (inbox / "imported").iterdir()) == [
        "copy.csv", "nanyang-20261118.csv"]
    assert not list(inbox.glob("*.csv"))


def test_the_inbox_source_imports_a_dropped_file_while_running(
        tmp_path: Path, intake: Intake, outbox: Outbox, resident_id: str) -> None:
    inbox = tmp_path / "inbox"
    notified = threading.Event()
    stop = threading.Event()
    source = nanyang_young.make_source(Options(str(inbox)), outbox)
    thread = threading.Thread(target=source.run, args=(intake, stop, notified.set))
    thread.start()
    try:
        drop([native_record(f"I{n}", resident_id, "志愿服务", 10, DAY) for n in range(3)], inbox)
        deadline = time.monotonic() + 10
        while outbox.status()["last_seq"] < 3 or list(inbox.glob("*.csv")):
            assert time.monotonic() < deadline, "the dropped file was not imported"
            time.sleep(0.05)
    finally:
        stop.set()
        thread.join(timeout=10)
    assert not thread.is_alive()
    assert notified.is_set()
    assert len(list((inbox / "imported").glob("nanyang-*.csv"))) == 1


def test_make_source_needs_an_inbox(outbox: Outbox) -> None:
    with pytest.raises(ValueError, match="--inbox DIR"):
        nanyang_young.make_source(Options(None), outbox)


def test_the_header_is_the_platforms() -> None:
    assert ",".join(HEADER) == "流水号,身份证号,姓名,积分类型,积分,发生日期,备注"


class Options:
    """The options `pointsledger adapter run` passes (SourceOptions)."""

    def __init__(self, inbox: str | None) -> None:
        self.listen: tuple[str, int] | None = None
        self.inbox = inbox
        self.url: str | None = None
        self.interval_s = 0.05
