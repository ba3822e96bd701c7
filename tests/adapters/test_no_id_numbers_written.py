"""No ID number in anything an adapter writes (SPEC §4.1, §4.5, §10; issue 11 item 3).

Known ID numbers go through every adapter's own receiving path (webhooks, the inbox, the poller)
where they belong (the resident's column) and where they do not (the record id, the category,
the name, the memo, a broken line, an unreadable body, a file name), plainly, with spaces,
hyphens, in full-width digits and as JSON escapes. Then every file the adapter wrote (the outbox
and its WAL, the reports), the listing of `pointsledger adapter quarantine` and the captured log
lines are searched for each number in every written form; the events themselves must pass the
ledger's verification, which refuses an ID-shaped memo or source_ref.
"""

from __future__ import annotations

import json
import logging
import random
import re
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

import adapters.lijiayuan as lijiayuan
import adapters.nanyang_young as nanyang_young
import adapters.pingan_gongfu as pingan_gongfu
import adapters.wuhe_zhonglian as wuhe_zhonglian
from adapters.base.http_source import webhook_app
from adapters.base.intake import Intake
from adapters.base.outbox.database import Outbox
from adapters.base.records import NativeRecord, PointChange
from adapters.nanyang_young.inbox import InboxSource
from adapters.nanyang_young.simulator import drop
from adapters.wuhe_zhonglian.poller import PollingSource, saved_cursor
from adapters.wuhe_zhonglian.simulator import PlatformServer, id_order
from ledger.cli.main import cli
from ledger.contract.categories import Category, EventType
from ledger.contract.resident_id import synthetic_id_number
from ledger.contract.signing import EventSigner
from ledger.contract.webhook import key_id_for, public_key_bytes
from ledger.domain.verification import Delivery, VerifiedEvent, verify_delivery
from ledger.service.keyring import Keyring, RegisteredKey
from tests.adapters.contract import NOW
from tests.support import TEST_PEPPER

DAY = NOW - timedelta(days=2)
RESIDENT = synthetic_id_number(random.Random(20261120))  # a valid number: the resident's own
SPACED = "330109 19800101 1234"  # as a clerk types one into another column
RECORD_ID = synthetic_id_number(random.Random(99))  # a record id that is shaped like one
OTHER = synthetic_id_number(random.Random(3))  # in a name or an extra field
BAD_CHECK = RESIDENT[:17] + ("0" if RESIDENT[17] != "0" else "1")  # wrong check character
# The last record id of a page becomes the poller's cursor: shaped like an ID number too.
LAST_ID = synthetic_id_number(random.Random(7), region_code="990109")
KNOWN = [RESIDENT, SPACED.replace(" ", ""), RECORD_ID, OTHER, BAD_CHECK, LAST_ID]
FULL_WIDTH = str.maketrans("0123456789Xx", "０１２３４５６７８９Ｘｘ")
POLL_INTERVAL_S = 0.02
POLL_TIMEOUT_S = 10.0


def full_width(number: str) -> str:
    return number.translate(FULL_WIDTH)


def hyphenated(number: str) -> str:
    return f"{number[:6]}-{number[6:14]}-{number[14:]}"


def json_escaped(number: str) -> str:
    return "".join(f"\\u{ord(character):04x}" for character in number)


# -- the search --------------------------------------------------------------------------------

_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")
_SEPARATORS = re.compile(r"[ \u3000-]")
_ASCII = str.maketrans("０１２３４５６７８９Ｘｘ", "0123456789Xx")


def plain(text: str) -> str:
    """Every written form of a number brought back to its 18 characters: escapes decoded,
    full-width digits narrowed, separators dropped (a masked number keeps its `*`)."""
    text = _ESCAPE.sub(lambda match: chr(int(match.group(1), 16)), text)
    return _SEPARATORS.sub("", text.translate(_ASCII)).upper()


def id_numbers_in(data: bytes) -> list[str]:
    texts = [data.decode("utf-8", errors="replace"), data.decode("gbk", errors="replace")]
    return [number for number in KNOWN for text in texts if number.upper() in plain(text)]


def written_files(*folders: Path) -> Iterator[Path]:
    for folder in folders:
        for path in folder.rglob("*"):
            # The exports themselves hold ID numbers, kept in imported/ until deleted.
            if path.is_file() and "imported" not in path.relative_to(folder).parts:
                yield path


def assert_nothing_holds_an_id_number(outbox: Outbox, outbox_url: str, platform: str,
                                      caplog: pytest.LogCaptureFixture, *folders: Path) -> None:
    found = {str(path): id_numbers_in(path.read_bytes()) for path in written_files(*folders)}
    assert any(name.endswith("-wal") for name in found), "the outbox's WAL was not searched"
    listing = CliRunner().invoke(cli, ["adapter", "quarantine", platform, "--outbox", outbox_url])
    assert listing.exit_code == 0, listing.output
    assert listing.output.count("\n") == outbox.status()["quarantined"]
    found["adapter quarantine"] = id_numbers_in(listing.output.encode("utf-8"))
    found["log"] = id_numbers_in(caplog.text.encode("utf-8"))
    assert {where: numbers for where, numbers in found.items() if numbers} == {}


def assert_the_ledger_accepts_every_event(outbox: Outbox, key: Ed25519PrivateKey,
                                          platform: str) -> list[dict[str, Any]]:
    public = public_key_bytes(key)
    keyring = Keyring({platform: [RegisteredKey(key_id_for(public), public, None)]})
    bodies = []
    for event in outbox.events.pending(1000):
        verified = verify_delivery(Delivery(event.body, event.headers, "amqp"), keyring,
                                   NOW + timedelta(seconds=1), 300)
        assert isinstance(verified, VerifiedEvent), verified
        bodies.append(json.loads(event.body))
    assert bodies
    return bodies


# -- fixtures ----------------------------------------------------------------------------------

@pytest.fixture
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


class Adapter:
    """One platform's outbox and intake in a directory of their own."""

    def __init__(self, module: ModuleType, folder: Path, key: Ed25519PrivateKey) -> None:
        self.module = module
        self.folder = folder
        self.url = f"sqlite:///{folder / 'outbox.sqlite3'}"
        self.outbox = Outbox(self.url, module.PLATFORM)
        self.intake = Intake(module.Mapper(), self.outbox, EventSigner(key), TEST_PEPPER,
                             clock=lambda: NOW)


@pytest.fixture
def adapter(request: pytest.FixtureRequest, tmp_path: Path,
            key: Ed25519PrivateKey) -> Iterator[Adapter]:
    folder = tmp_path / "adapter"
    folder.mkdir()
    made = Adapter(request.param, folder, key)
    yield made
    made.outbox.close()


# -- every path --------------------------------------------------------------------------------

@pytest.mark.parametrize(("adapter", "path"), [(lijiayuan, lijiayuan.WEBHOOK_PATH),
                                               (pingan_gongfu, pingan_gongfu.ACTIVITIES_PATH)],
                         indirect=["adapter"])
def test_no_id_number_is_written_by_a_webhook_adapter(
        adapter: Adapter, path: str, key: Ed25519PrivateKey,
        caplog: pytest.LogCaptureFixture) -> None:
    module = adapter.module
    code = next(iter(module.CATEGORIES.codes))
    records = [
        module.native_record(RECORD_ID, RESIDENT, code, 5, DAY),  # an ID-shaped record id
        module.native_record("W2", RESIDENT, SPACED, 5, DAY),  # an ID in the category
        module.native_record("W3", RESIDENT, full_width(OTHER), 5, DAY),
        module.native_record("W4", BAD_CHECK, code, 5, DAY),
        module.native_record("W5", RESIDENT, code, hyphenated(OTHER), DAY),  # in the points
        {**module.native_record("W6", RESIDENT, code, 5, "not a time"), "extra": OTHER},
    ]
    client = webhook_app(module.PLATFORM, path, module.native_records, adapter.intake,
                         lambda: None).test_client()
    with caplog.at_level(logging.DEBUG):
        accepted = client.post(path, data=module.payload(records))
        unreadable = client.post(path, data=b'{"id": "' + json_escaped(OTHER).encode() +
                                 b'", "no": "json')
        retried = client.post(path, data=module.payload(records[:1]))
    assert (accepted.status_code, unreadable.status_code, retried.status_code) == (200, 400, 200)
    assert accepted.get_json()["accepted"] == 1 and retried.get_json()["duplicates"] == 1
    assert len(accepted.get_json()["quarantined"]) == 5
    assert id_numbers_in(accepted.get_data()) == []

    (body,) = assert_the_ledger_accepts_every_event(adapter.outbox, key, module.PLATFORM)
    assert "source_ref" not in body and body["event_id"].startswith(f"{module.PLATFORM}:k:")
    assert_nothing_holds_an_id_number(adapter.outbox, adapter.url, module.PLATFORM, caplog,
                                      adapter.folder)


@pytest.mark.parametrize("adapter", [nanyang_young], indirect=True)
def test_no_id_number_is_written_by_the_inbox(
        adapter: Adapter, tmp_path: Path, key: Ed25519PrivateKey,
        caplog: pytest.LogCaptureFixture) -> None:
    row = nanyang_young.native_record
    records = [
        row(RECORD_ID, RESIDENT, "垃圾分类", 3, DAY),
        {**row("N2", RESIDENT, "志愿服务", 3, DAY), "姓名": full_width(OTHER), "备注": SPACED},
        row("N3", RESIDENT, SPACED, 3, DAY),
        row("N4", BAD_CHECK, "垃圾分类", 3, DAY),
        row("N5", RESIDENT, "垃圾分类", hyphenated(OTHER), DAY),
    ]
    inbox = tmp_path / "inbox"
    drop(records, inbox, f"{RESIDENT}.csv")  # a name made of an ID number
    broken = nanyang_young.payload([row("N6", RESIDENT, "垃圾分类", 3, DAY)])
    (inbox / f"broken {SPACED}.csv").write_bytes(broken.replace(b",3,", b",3,\xff\xfe,"))
    (inbox / f"{OTHER}.csv").symlink_to(inbox / f"broken {SPACED}.csv")

    with caplog.at_level(logging.DEBUG):
        InboxSource(inbox, 1.0, adapter.outbox, chunk_records=2).scan(adapter.intake,
                                                                      lambda: None)
        drop(records, inbox, f"again {RESIDENT}.csv")
        InboxSource(inbox, 1.0, adapter.outbox).scan(adapter.intake, lambda: None)

    assert adapter.outbox.status()["last_seq"] == 2
    assert adapter.outbox.status()["quarantined"] == 5
    bodies = assert_the_ledger_accepts_every_event(adapter.outbox, key, nanyang_young.PLATFORM)
    assert "source_ref" not in bodies[0]
    assert_nothing_holds_an_id_number(adapter.outbox, adapter.url, nanyang_young.PLATFORM,
                                      caplog, adapter.folder, inbox)


@pytest.mark.parametrize("adapter", [wuhe_zhonglian], indirect=True)
def test_no_id_number_is_written_by_the_poller(
        adapter: Adapter, key: Ed25519PrivateKey, caplog: pytest.LogCaptureFixture) -> None:
    row = wuhe_zhonglian.native_record
    records = [
        row(RECORD_ID, RESIDENT, "volunteer", 5, DAY),
        row(2, RESIDENT, SPACED, 5, DAY),
        row(3, BAD_CHECK, "volunteer", 5, DAY),
        {**row(4, RESIDENT, "volunteer", 5, "not a time"), "note": full_width(OTHER)},
        row(5, RESIDENT, "volunteer", hyphenated(OTHER), DAY),
        # The cursor is the last record id of a page, sent back to the platform as it came:
        # an ID-shaped one is kept sealed.
        row(LAST_ID, RESIDENT, "mutual_aid", 5, DAY),
    ]
    # The platform's last id in its own order (both ID-shaped ids may end in X, sorted as text).
    final_cursor = str(max((record["id"] for record in records), key=id_order))
    assert final_cursor in (RECORD_ID, LAST_ID)
    server = PlatformServer(records).start()
    poller = PollingSource(server.url, POLL_INTERVAL_S, adapter.outbox)
    stop = threading.Event()
    thread = threading.Thread(target=poller.run,
                                            args=(adapter.intake, stop, lambda: None))
    with caplog.at_level(logging.DEBUG):
        thread.start()
        try:
            deadline = time.monotonic() + POLL_TIMEOUT_S
            while saved_cursor(adapter.outbox, adapter.intake.seal) != final_cursor:
                assert time.monotonic() < deadline, "the poller did not finish"
                stop.wait(POLL_INTERVAL_S)
        finally:
            stop.set()
            thread.join()
            server.stop()
    assert adapter.outbox.status()["last_seq"] == 2
    assert_the_ledger_accepts_every_event(adapter.outbox, key, wuhe_zhonglian.PLATFORM)
    assert_nothing_holds_an_id_number(adapter.outbox, adapter.url, wuhe_zhonglian.PLATFORM,
                                      caplog, adapter.folder)


class MemoMapper:
    """A platform that sends a memo (none of the four does yet): the memo goes into the event."""

    platform = lijiayuan.PLATFORM

    def __init__(self, memo: str) -> None:
        self.memo = memo

    def map_record(self, record: NativeRecord) -> PointChange:
        return PointChange(str(record.fields["id"]), RESIDENT, EventType.AWARDED,
                           Category.VOLUNTEERING, 5, DAY, memo=self.memo)


@pytest.mark.parametrize("memo", [f"帮助 {SPACED} 搬家", f"见 {full_width(OTHER)}",
                                  # 19 digits, no ID; cut to 200 characters, the last 18 are one
                                  f"{'a' * 182}{RESIDENT}5"])
def test_an_id_number_in_a_memo_is_masked_before_the_event_is_signed(
        memo: str, tmp_path: Path, key: Ed25519PrivateKey) -> None:
    outbox = Outbox(f"sqlite:///{tmp_path / 'o.sqlite3'}", lijiayuan.PLATFORM)
    try:
        intake = Intake(MemoMapper(memo), outbox, EventSigner(key), TEST_PEPPER,
                        clock=lambda: NOW)
        intake.accept([NativeRecord("t", "{}", {"id": "M1"})])
        (body,) = assert_the_ledger_accepts_every_event(outbox, key, lijiayuan.PLATFORM)
    finally:
        outbox.close()
    assert "*" in body["memo"] and id_numbers_in(body["memo"].encode("utf-8")) == []
