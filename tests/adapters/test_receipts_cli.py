"""`pointsledger adapter status` shows the ledger's receipts, "off" until the adapter collects
them; `adapter run` refuses half or bad receipt settings before it starts (SPEC §14)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from adapters.base.outbox.database import Outbox
from adapters.base.outbox.events import PUBLISHED_THROUGH
from ledger.cli.main import cli
from ledger.contract.webhook import encode_private_key
from tests.adapters.fake_ledger_api import TOKEN, FakeLedger, serving
from tests.adapters.receipts_support import (
    PLATFORM,
    PUBLISHED_AT,
    collector_of,
    publish,
    receipts_status,
)
from tests.adapters.test_outbox_migrations import outbox_made_before_migrations
from tests.support import TEST_PEPPER


@pytest.fixture
def ledger() -> FakeLedger:
    return FakeLedger(PLATFORM)


@pytest.fixture
def api_url(ledger: FakeLedger) -> Iterator[str]:
    with serving(ledger) as url:
        yield url


def test_events_published_before_the_adapter_kept_publishing_times_have_none(
        tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite3"
    outbox_made_before_migrations(path)  # event 1 published, event 2 not yet
    outbox = Outbox(f"sqlite:///{path}", PLATFORM, clock=lambda: PUBLISHED_AT)
    try:
        outbox.receipts.set_collecting(True)
        assert receipts_status(outbox)["oldest_unproven"] == {
            "event_id": "lijiayuan:L1", "seq": 1, "published_at": None}
        outbox.events.mark_published(2)
        outbox.receipts.note_rejected(outbox.receipts.unproven(1)[0], "bad_signature")
        outbox.receipts.advance_settled()
        assert receipts_status(outbox)["oldest_unproven"] == {
            "event_id": "lijiayuan:L2", "seq": 2, "published_at": PUBLISHED_AT.isoformat()}
    finally:
        outbox.close()


def test_receipts_are_off_until_the_adapter_collects_them(tmp_path: Path) -> None:
    outbox_url = f"sqlite:///{tmp_path / 'outbox.sqlite3'}"
    result = CliRunner().invoke(cli, ["adapter", "status", PLATFORM, "--outbox", outbox_url])

    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["receipts"] == "off"


def test_adapter_status_shows_the_receipts(tmp_path: Path, ledger: FakeLedger, api_url: str,
                                           resident_id: str) -> None:
    outbox_url = f"sqlite:///{tmp_path / 'outbox.sqlite3'}"
    outbox = Outbox(outbox_url, PLATFORM, clock=lambda: PUBLISHED_AT)
    try:
        (event,) = publish(outbox, resident_id, 1)
        ledger.record(event.event_id, event.body)
        ledger.sign_checkpoint()
        collector_of(outbox, ledger, api_url).collect()
    finally:
        outbox.close()

    result = CliRunner().invoke(cli, ["adapter", "status", PLATFORM, "--outbox", outbox_url])

    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["receipts"] == {
        "proven": 1, "unproven": 0, "rejected": 0, "oldest_unproven": None,
        "latest_checkpoint_size": 1, "inconsistent": None}


@pytest.mark.parametrize(("environment", "message"), [
    ({"POINTSLEDGER_LEDGER_API_URL": "http://127.0.0.1:1"},
     "error: receipts need POINTSLEDGER_LEDGER_API_URL, POINTSLEDGER_LEDGER_API_TOKEN_FILE and "
     "POINTSLEDGER_LEDGER_LOG_VKEY together: POINTSLEDGER_LEDGER_API_TOKEN_FILE and "
     "POINTSLEDGER_LEDGER_LOG_VKEY is not set"),
    ({"POINTSLEDGER_LEDGER_API_URL": "http://127.0.0.1:1",
      "POINTSLEDGER_LEDGER_API_TOKEN_FILE": "{tmp}/token",
      "POINTSLEDGER_LEDGER_LOG_VKEY": "not-a-vkey"},
     "error: POINTSLEDGER_LEDGER_LOG_VKEY must be the ledger's log verifier key "
     "<origin>+<key id>+<key> (`pointsledger keys ledger --vkey` prints it)"),
    ({"POINTSLEDGER_LEDGER_API_URL": "http://127.0.0.1:1",
      "POINTSLEDGER_LEDGER_API_TOKEN_FILE": "{tmp}/missing",
      "POINTSLEDGER_LEDGER_LOG_VKEY": "{vkey}"},
     "error: POINTSLEDGER_LEDGER_API_TOKEN_FILE: cannot read the ledger API token from "
     "{tmp}/missing (FileNotFoundError)"),
    ({"POINTSLEDGER_LEDGER_API_URL": "ftp://ledger",
      "POINTSLEDGER_LEDGER_API_TOKEN_FILE": "{tmp}/token",
      "POINTSLEDGER_LEDGER_LOG_VKEY": "{vkey}"},
     "error: POINTSLEDGER_LEDGER_API_URL: the ledger API URL must be "
     "http(s)://HOST[:PORT][/PATH]"),
])
def test_adapter_run_refuses_half_or_bad_receipt_settings_before_it_starts(
        environment: dict[str, str], message: str, tmp_path: Path,
        ledger: FakeLedger) -> None:
    key_file = tmp_path / "lijiayuan.key"
    key_file.write_text(encode_private_key(Ed25519PrivateKey.generate()) + "\n",
                        encoding="ascii")
    (tmp_path / "token").write_text(TOKEN + "\n", encoding="utf-8")
    values = {"tmp": str(tmp_path), "vkey": ledger.vkey}
    result = CliRunner().invoke(cli, [
        "adapter", "run", PLATFORM, "--key-file", str(key_file), "--listen", "127.0.0.1:0",
        "--outbox", f"sqlite:///{tmp_path / 'outbox.sqlite3'}"], env={
        "POINTSLEDGER_AMQP_URL": "amqp://guest:guest@127.0.0.1:1/none",
        "POINTSLEDGER_RESIDENT_PEPPER": TEST_PEPPER, "POINTSLEDGER_LOG_ORIGIN": "bank.test/log",
        **{name: value.format(**values) for name, value in environment.items()}})

    assert (result.exit_code, result.output.strip()) == (2, message.format(**values))
    assert not (tmp_path / "outbox.sqlite3").exists()


def test_an_event_published_again_after_a_restore_keeps_its_first_publishing_time(
        tmp_path: Path, resident_id: str) -> None:
    now = [PUBLISHED_AT]
    outbox = Outbox(f"sqlite:///{tmp_path / 'outbox.sqlite3'}", PLATFORM, clock=lambda: now[0])
    try:
        (event,) = publish(outbox, resident_id, 1)
        outbox.receipts.set_collecting(True)
        outbox.state.set(PUBLISHED_THROUGH, "0")  # the watermark of an older backup
        now[0] = PUBLISHED_AT + timedelta(hours=1)
        outbox.events.mark_published(event.seq)

        assert receipts_status(outbox)["oldest_unproven"] == {
            "event_id": event.event_id, "seq": event.seq,
            "published_at": PUBLISHED_AT.isoformat()}
    finally:
        outbox.close()
