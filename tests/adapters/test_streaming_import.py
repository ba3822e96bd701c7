"""A 南阳young export read as a stream and stored in chunks (SPEC §10, issue 11 item 6): the
pump can publish while the file is read, and an import interrupted anywhere resumes after its
last committed chunk, every record stored once, none lost, the report right."""

from __future__ import annotations

import io
import json
import random
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

import adapters.nanyang_young as nanyang_young
from adapters.base.intake import Intake
from adapters.base.outbox.database import Outbox
from adapters.base.records import NativeRecord, PointChange
from adapters.nanyang_young.feed import LINE_BYTES_MAX, read_export
from adapters.nanyang_young.inbox import InboxSource
from adapters.nanyang_young.simulator import drop, generate, native_record
from ledger.contract.signing import EventSigner
from tests.adapters.contract import NOW

DAY = NOW - timedelta(days=2)
CHUNK = 10
RECORDS = 95
BAD = 5


class Crash(Exception):
    """Stands for the process dying at that point."""


class CrashingMapper(nanyang_young.Mapper):
    """The real mapping, until the record `crash_at` is reached the first time."""

    def __init__(self, crash_at: str) -> None:
        self.crash_at: str | None = crash_at

    def map_record(self, record: NativeRecord) -> PointChange:
        if self.crash_at is not None and record.fields.get("流水号") == self.crash_at:
            self.crash_at = None
            raise Crash(record.location)
        return super().map_record(record)


@pytest.fixture
def outbox(tmp_path: Path) -> Iterator[Outbox]:
    box = Outbox(f"sqlite:///{tmp_path / 'outbox.sqlite3'}", nanyang_young.PLATFORM)
    yield box
    box.close()


@pytest.fixture
def records() -> list[dict[str, Any]]:
    return generate(random.Random(5), RECORDS, BAD, NOW)


def source(tmp_path: Path, outbox: Outbox) -> InboxSource:
    return InboxSource(tmp_path / "inbox", 1.0, outbox, chunk_records=CHUNK)


def report_of(tmp_path: Path, name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(
        (tmp_path / "inbox" / f"{name}.report.json").read_text("utf-8"))
    return document


def native_ids(outbox: Outbox) -> list[str]:
    return [json.loads(event.body)["source_ref"] for event in outbox.events.pending(10_000)]


def test_records_are_committed_chunk_by_chunk_while_the_file_is_read(
        tmp_path: Path, outbox: Outbox, key_pair_signer: EventSigner,
        records: list[dict[str, Any]]) -> None:
    intake = Intake(nanyang_young.Mapper(), outbox, key_pair_signer, "pepper-pepper-pepper",
                    clock=lambda: NOW)
    drop(records, tmp_path / "inbox", "big.csv")
    seen_by_the_pump: list[int] = []

    source(tmp_path, outbox).scan(intake,
                                  lambda: seen_by_the_pump.append(outbox.status()["last_seq"]))

    # Woken after each chunk with that chunk already readable by another connection.
    assert len(seen_by_the_pump) >= (RECORDS + BAD) // CHUNK
    assert seen_by_the_pump == sorted(seen_by_the_pump)
    assert seen_by_the_pump[0] < RECORDS and seen_by_the_pump[-1] == RECORDS
    report = report_of(tmp_path, "big.csv")
    assert (report["accepted"], report["duplicates"], report["quarantined_total"]) == (
        RECORDS, 0, BAD)
    assert len(report["quarantined"]) == BAD


@pytest.mark.parametrize("crash_at", ["NY20261120000001", "NY20261120000045",
                                      "NY20261120000095"])
def test_an_import_interrupted_mid_file_resumes_without_doubles_or_losses(
        crash_at: str, tmp_path: Path, outbox: Outbox, key_pair_signer: EventSigner,
        records: list[dict[str, Any]]) -> None:
    drop(records, tmp_path / "inbox", "big.csv")
    crashing = Intake(CrashingMapper(crash_at), outbox, key_pair_signer,
                      "pepper-pepper-pepper", clock=lambda: NOW)
    with pytest.raises(Crash):
        source(tmp_path, outbox).scan(crashing, lambda: None)
    stored_before = outbox.status()["last_seq"]
    assert stored_before < RECORDS  # the chunk in hand was rolled back, earlier ones stayed
    assert (tmp_path / "inbox" / "big.csv").exists()

    # The next process, the next scan: the same file, resumed.
    restarted = Intake(nanyang_young.Mapper(), outbox, key_pair_signer, "pepper-pepper-pepper",
                       clock=lambda: NOW)
    source(tmp_path, outbox).scan(restarted, lambda: None)

    assert sorted(native_ids(outbox)) == sorted(str(record["流水号"]) for record in records
                                                if not str(record["流水号"]).startswith("NYBAD"))
    assert outbox.status()["quarantined"] == BAD
    report = report_of(tmp_path, "big.csv")
    assert (report["accepted"], report["duplicates"], report["quarantined_total"]) == (
        RECORDS, 0, BAD)
    # Each chunk committed CHUNK good records (the bad ones are at the end); line 1 is the header.
    assert report.get("resumed_at_line") == (stored_before + 2 if stored_before else None)
    assert outbox.imports.progress(report["digest"]) is None
    assert not (tmp_path / "inbox" / "big.csv").exists()


def test_a_stop_between_chunks_leaves_the_file_to_resume(
        tmp_path: Path, outbox: Outbox, key_pair_signer: EventSigner,
        records: list[dict[str, Any]]) -> None:
    intake = Intake(nanyang_young.Mapper(), outbox, key_pair_signer, "pepper-pepper-pepper",
                    clock=lambda: NOW)
    drop(records, tmp_path / "inbox", "big.csv")
    stop = threading.Event()
    source(tmp_path, outbox).scan(intake, stop.set, stop)  # stops after its first chunk
    assert outbox.status()["last_seq"] == CHUNK
    source(tmp_path, outbox).scan(intake, lambda: None)
    assert outbox.status()["last_seq"] == RECORDS
    assert report_of(tmp_path, "big.csv")["accepted"] == RECORDS


def test_the_export_is_read_a_line_at_a_time(resident_id: str) -> None:
    rows = [native_record(f"S{number}", resident_id, "垃圾分类", 3, DAY)
            for number in range(2000)]
    stream = io.BytesIO(nanyang_young.payload(rows))
    size = len(stream.getbuffer())
    first = next(read_export(stream, "s.csv"))
    assert first.record.fields["流水号"] == "S0"
    assert stream.tell() < size / 100


def test_a_line_longer_than_any_export_writes_is_refused_unread(resident_id: str) -> None:
    good = nanyang_young.payload([native_record("G1", resident_id, "垃圾分类", 3, DAY)])
    long_line = b"L1," + b"9" * (LINE_BYTES_MAX * 3) + b"\r\n"
    data = good + long_line + good.split(b"\r\n", 1)[1].replace(b"G1", b"G2")
    records = [item.record for item in read_export(io.BytesIO(data), "l.csv")]
    assert [record.location for record in records] == ["l.csv line 2", "l.csv line 3",
                                                       "l.csv line 4"]
    assert records[1].unreadable == f"the line is longer than {LINE_BYTES_MAX} bytes"
    assert len(records[1].raw) < 100
    assert records[2].fields["流水号"] == "G2"


def test_resuming_reads_the_header_again_then_goes_on_where_it_left(resident_id: str) -> None:
    rows = [native_record(f"R{number}", resident_id, "垃圾分类", 3, DAY) for number in range(5)]
    stream = io.BytesIO(b"\xef\xbb\xbf" + nanyang_young.payload(rows).decode("gbk")
                        .encode("utf-8"))
    read = list(read_export(stream, "r.csv"))
    resumed = list(read_export(stream, "r.csv", read[1].following))
    assert [item.record.location for item in resumed] == ["r.csv line 4", "r.csv line 5",
                                                         "r.csv line 6"]
    assert [item.record.fields["流水号"] for item in resumed] == ["R2", "R3", "R4"]
