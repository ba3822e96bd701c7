"""南阳young's inbox on untrusted ground (SPEC §10, issue 11 item 4): regular files only, never
through a link; `imported/` a real directory; a name that is not UTF-8 quarantined once; names
escaped in log lines; imported exports deleted after POINTSLEDGER_ADAPTER_KEEP_DAYS."""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

import adapters.nanyang_young as nanyang_young
from adapters.base.intake import Intake
from adapters.base.outbox.database import Outbox
from adapters.base.retention import KEEP_DAYS_DEFAULT, keep_days_from_environment
from adapters.nanyang_young.inbox import InboxSource
from adapters.nanyang_young.simulator import drop, native_record
from ledger.contract.signing import EventSigner
from tests.adapters.contract import NOW

DAY = NOW - timedelta(days=2)
SECRET = "pepper-that-must-never-leak-4711"
SECONDS_PER_DAY = 86_400


@pytest.fixture
def outbox(tmp_path: Path) -> Iterator[Outbox]:
    box = Outbox(f"sqlite:///{tmp_path / 'outbox.sqlite3'}", nanyang_young.PLATFORM)
    yield box
    box.close()


@pytest.fixture
def intake(outbox: Outbox, key_pair_signer: EventSigner) -> Intake:
    return Intake(nanyang_young.Mapper(), outbox, key_pair_signer, "pepper-pepper-pepper",
                  clock=lambda: NOW)


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    folder = tmp_path / "inbox"
    folder.mkdir()
    return folder


def scan(outbox: Outbox, intake: Intake, inbox: Path, keep_days: int = 30) -> None:
    InboxSource(inbox, 1.0, outbox, keep_days).scan(intake, lambda: None)


def quarantine_listing(outbox: Outbox) -> str:
    return "\n".join(json.dumps(record.document(), ensure_ascii=False)
                     for record in outbox.quarantine.records())


def test_a_link_named_csv_is_quarantined_once_unread(
        inbox: Path, outbox: Outbox, intake: Intake, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POINTSLEDGER_TEST_SECRET", SECRET)
    (inbox / "x.csv").symlink_to("/proc/self/environ")

    scan(outbox, intake, inbox)
    scan(outbox, intake, inbox)

    (kept,) = outbox.quarantine.records()
    assert (kept.location, kept.reason) == ("x.csv", "bad_record")
    assert "symbolic link" in kept.detail and "not read" in kept.detail
    report = (inbox / "x.csv.report.json").read_text("utf-8")
    assert SECRET not in quarantine_listing(outbox) and SECRET not in report
    assert json.loads(report)["read"] is False
    assert outbox.status()["last_seq"] == 0
    assert (inbox / "imported" / "x.csv").is_symlink()  # the link itself, moved, unfollowed
    assert not os.path.lexists(inbox / "x.csv")


def test_a_link_to_a_real_export_is_not_imported(
        tmp_path: Path, inbox: Path, outbox: Outbox, intake: Intake, resident_id: str) -> None:
    elsewhere = drop([native_record("E1", resident_id, "垃圾分类", 3, DAY)], tmp_path / "other")
    (inbox / "linked.csv").symlink_to(elsewhere)
    scan(outbox, intake, inbox)
    assert outbox.status()["last_seq"] == 0
    assert [record.reason for record in outbox.quarantine.records()] == ["bad_record"]
    assert elsewhere.exists()  # what the link pointed to was neither read nor moved


@pytest.mark.parametrize("kind", ["directory", "fifo"])
def test_an_entry_that_is_not_a_regular_file_is_quarantined_unread(
        kind: str, inbox: Path, outbox: Outbox, intake: Intake) -> None:
    entry = inbox / "odd.csv"
    if kind == "directory":
        entry.mkdir()
    else:
        os.mkfifo(entry)  # opening it for reading would block the scan forever
    scan(outbox, intake, inbox)
    (kept,) = outbox.quarantine.records()
    assert f"a {kind.replace('fifo', 'FIFO')}" in kept.detail
    assert not entry.exists()


def test_a_symlinked_imported_directory_is_refused_and_nothing_moves_through_it(
        tmp_path: Path, inbox: Path, outbox: Outbox, intake: Intake, resident_id: str,
        caplog: pytest.LogCaptureFixture) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (inbox / "imported").symlink_to(elsewhere)
    dropped = drop([native_record("M1", resident_id, "垃圾分类", 3, DAY)], inbox, "m.csv")

    source = InboxSource(inbox, 1.0, outbox)
    with caplog.at_level(logging.INFO):
        source.scan(intake, lambda: None)
        source.scan(intake, lambda: None)

    assert list(elsewhere.iterdir()) == []
    assert dropped.exists()
    assert outbox.status()["last_seq"] == 0
    refusals = [record for record in caplog.records if "not a real directory" in record.message]
    assert len(refusals) == 1 and refusals[0].levelno == logging.ERROR  # said once, clearly
    assert "imported is a symbolic link" in refusals[0].message

    (inbox / "imported").unlink()
    source.scan(intake, lambda: None)
    assert outbox.status()["last_seq"] == 1
    assert (inbox / "imported" / "m.csv").is_file()


def test_a_name_that_is_not_utf8_is_quarantined_once_without_a_traceback(
        inbox: Path, outbox: Outbox, intake: Intake, resident_id: str,
        caplog: pytest.LogCaptureFixture) -> None:
    data = nanyang_young.payload([native_record("U1", resident_id, "垃圾分类", 3, DAY)])
    name = os.fsencode(inbox) + b"/bad-\xff\xfe.csv"
    with open(name, "wb") as handle:
        handle.write(data)

    with caplog.at_level(logging.INFO):
        for _ in range(3):
            scan(outbox, intake, inbox)

    (kept,) = outbox.quarantine.records()
    assert kept.location == "bad-\\xff\\xfe.csv"
    assert "not valid UTF-8" in kept.detail
    assert outbox.status()["last_seq"] == 0
    assert not any(record.exc_info for record in caplog.records)
    assert len([record for record in caplog.records if record.levelno >= logging.WARNING]) == 1
    assert os.listdir(os.fsencode(inbox / "imported")) == [b"bad-\xff\xfe.csv"]


def test_a_newline_in_a_file_name_cannot_forge_a_log_line(
        inbox: Path, outbox: Outbox, intake: Intake, resident_id: str,
        caplog: pytest.LogCaptureFixture) -> None:
    forged = "x.csv\n2026-11-20 04:00:00 INFO adapter stopped\nx.csv"
    drop([native_record("N1", resident_id, "垃圾分类", 3, DAY)], inbox, forged)
    with caplog.at_level(logging.INFO):
        scan(outbox, intake, inbox)
    assert outbox.status()["last_seq"] == 1
    lines = [line for record in caplog.records for line in record.getMessage().splitlines()]
    assert len(lines) == len(caplog.records)
    assert any("\\n2026-11-20" in line for line in lines)


def test_imported_exports_are_deleted_after_the_keep_days_and_reports_stay(
        inbox: Path, outbox: Outbox, intake: Intake, resident_id: str) -> None:
    drop([native_record("K1", resident_id, "垃圾分类", 3, DAY)], inbox, "old.csv")
    scan(outbox, intake, inbox, keep_days=30)
    imported = inbox / "imported" / "old.csv"
    assert imported.is_file()
    long_ago = time.time() - 31 * SECONDS_PER_DAY
    os.utime(imported, (long_ago, long_ago))
    drop([native_record("K2", resident_id, "垃圾分类", 3, DAY)], inbox, "new.csv")

    scan(outbox, intake, inbox, keep_days=30)

    assert sorted(path.name for path in (inbox / "imported").iterdir()) == ["new.csv"]
    assert (inbox / "old.csv.report.json").is_file()


def test_a_file_is_kept_the_keep_days_counted_from_its_import_not_its_age(
        inbox: Path, outbox: Outbox, intake: Intake, resident_id: str) -> None:
    dropped = drop([native_record("A1", resident_id, "垃圾分类", 3, DAY)], inbox, "a.csv")
    long_ago = time.time() - 90 * SECONDS_PER_DAY
    os.utime(dropped, (long_ago, long_ago))  # the platform's file was written long ago
    scan(outbox, intake, inbox, keep_days=30)
    scan(outbox, intake, inbox, keep_days=30)
    assert (inbox / "imported" / "a.csv").is_file()


def test_retention_deletes_a_link_never_what_it_points_to(
        tmp_path: Path, inbox: Path, outbox: Outbox, intake: Intake) -> None:
    precious = tmp_path / "precious.txt"
    precious.write_text("keep me", encoding="utf-8")
    (inbox / "p.csv").symlink_to(precious)
    scan(outbox, intake, inbox, keep_days=0)
    assert not os.path.lexists(inbox / "imported" / "p.csv")
    assert precious.read_text(encoding="utf-8") == "keep me"


@pytest.mark.parametrize(("value", "days"), [(None, KEEP_DAYS_DEFAULT), ("", KEEP_DAYS_DEFAULT),
                                             ("0", 0), ("7", 7), ("3650", 3650)])
def test_the_keep_days_come_from_the_environment(value: str | None, days: int) -> None:
    environ = {} if value is None else {"POINTSLEDGER_ADAPTER_KEEP_DAYS": value}
    assert keep_days_from_environment(environ) == days


@pytest.mark.parametrize("value", ["-1", "thirty", "1.5", "3651", "１０"])
def test_a_bad_keep_days_stops_the_adapter_at_start_naming_the_variable(
        value: str, tmp_path: Path, outbox: Outbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POINTSLEDGER_ADAPTER_KEEP_DAYS", value)
    options = Options(str(tmp_path / "inbox"))
    with pytest.raises(ValueError, match="POINTSLEDGER_ADAPTER_KEEP_DAYS"):
        nanyang_young.make_source(options, outbox)


class Options:
    """The options `pointsledger adapter run` passes (SourceOptions)."""

    def __init__(self, inbox: str | None) -> None:
        self.listen: tuple[str, int] | None = None
        self.inbox = inbox
        self.url: str | None = None
        self.interval_s = 0.05
        self.notify_url: str | None = None
        self.notices_dir: str | None = None
