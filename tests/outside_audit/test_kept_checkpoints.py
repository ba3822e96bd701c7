"""The state directory: one file per log, written whole or not at all, one audit at a time."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from ledger.contract.note_keys import Verifier
from ledger.outside_audit.errors import UsageError
from ledger.outside_audit.kept_checkpoints import CheckpointKeeper
from tests.outside_audit.fake_log import FakeLog

KEPT_AT = datetime(2026, 4, 1, 12, 0, 30, tzinfo=UTC)


def test_the_kept_checkpoint_is_read_back_with_its_date(tmp_path: Path) -> None:
    log = FakeLog()
    log.add_platform("p")
    checkpoint = log.publish()
    note = log.checkpoint("ledger")
    assert note is not None
    verifier = Verifier.from_vkey(log.vkey())
    with CheckpointKeeper(tmp_path, verifier.name) as keeper:
        assert keeper.load(verifier) is None
        keeper.keep(note, KEPT_AT)
    with CheckpointKeeper(tmp_path, verifier.name) as keeper:
        kept = keeper.load(verifier)
    assert kept is not None and kept.checkpoint == checkpoint
    assert kept.described() == "the checkpoint of size 0 kept on 2026-04-01T12:00:30Z"
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "bank.example%2Fledger.checkpoint.json", "bank.example%2Fledger.lock"]


def test_two_audits_of_one_log_cannot_share_a_state_directory(tmp_path: Path) -> None:
    with CheckpointKeeper(tmp_path, "bank.example/ledger"):
        with pytest.raises(UsageError, match=r"another audit of bank\.example/ledger is running"):
            CheckpointKeeper(tmp_path, "bank.example/ledger").__enter__()
        # Another log's audit may run beside it.
        with CheckpointKeeper(tmp_path, "bank.example/ledger/audit"):
            pass
    with CheckpointKeeper(tmp_path, "bank.example/ledger"):
        pass


def test_a_state_file_not_written_by_the_auditor_is_refused(tmp_path: Path) -> None:
    log = FakeLog()
    verifier = Verifier.from_vkey(log.vkey())
    with CheckpointKeeper(tmp_path, verifier.name) as keeper:
        keeper.path.write_text("{not json")
        with pytest.raises(UsageError, match="is not one this command wrote"):
            keeper.load(verifier)
