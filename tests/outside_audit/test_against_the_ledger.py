"""`pointsledger audit` against the ledger itself (SPEC §14): the real API on a local port, its
checkpoints signed by the checkpointer, and the bad things an insider can do to the database —
an entry altered with the triggers disabled, the database restored from an older backup and
appended to — each caught by an auditor who holds only the keys and the checkpoint it kept."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import text

from ledger.bootstrap import Ledger, build
from ledger.cli.main import cli
from ledger.infra.db.tree_store import AUDIT_LOG
from ledger.service import administration
from ledger.service.tree import grow_tree
from tests.api.log_support import record, sign_checkpoints, vkey
from tests.api.support import create_tokens
from tests.console.support import LiveServer, live_server
from tests.ledger.test_merkle_tree import recomputed_leaf_hashes
from tests.support import PlatformFixture


@pytest.fixture
def served(ledger: Ledger) -> Iterator[LiveServer]:
    with live_server(ledger) as server:
        yield server


@pytest.fixture
def auditor_token(ledger: Ledger) -> str:
    return create_tokens(ledger.sessions).by_role["auditor"]


def audit(url: str, log_vkey: str, state: Path, *extra: str) -> Result:
    return CliRunner().invoke(cli, ["audit", "--url", url, "--log-vkey", log_vkey,
                                    "--state", str(state), *extra])


def test_the_ledger_passes_an_outside_audit_as_it_grows(
        ledger: Ledger, platform: PlatformFixture, served: LiveServer, auditor_token: str,
        tmp_path: Path) -> None:
    record(ledger, platform, 5)
    sign_checkpoints(ledger)
    first = audit(served.url, vkey(ledger), tmp_path / "state", "--full",
                  "--token", auditor_token)
    assert first.exit_code == 0, first.output
    assert first.stdout.startswith("audit passed")
    record(ledger, platform, 4)
    sign_checkpoints(ledger)
    second = audit(served.url, vkey(ledger), tmp_path / "state", "--full",
                   "--token", auditor_token)
    assert second.exit_code == 0, second.output
    assert "9" in second.stdout
    # The audit trail is a log of its own, audited the same way under its own key.
    with ledger.sessions.begin() as session:
        administration.add_branch(session, "test", "BR9", "支行", ledger.clock())
    sign_checkpoints(ledger)
    trail = audit(served.url, vkey(ledger, AUDIT_LOG), tmp_path / "state", "--full",
                  "--token", auditor_token)
    assert trail.exit_code == 0, trail.output


def test_an_entry_altered_with_the_triggers_disabled_fails_the_full_audit(
        ledger: Ledger, platform: PlatformFixture, served: LiveServer, auditor_token: str,
        tmp_path: Path) -> None:
    record(ledger, platform, 6)
    sign_checkpoints(ledger)
    assert audit(served.url, vkey(ledger), tmp_path / "state").exit_code == 0
    with ledger.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SET LOCAL session_replication_role = replica"))
        else:
            connection.execute(text("DROP TRIGGER ledger_entries_no_update"))
        connection.execute(text("UPDATE ledger_entries SET points = 500 WHERE seq = 4"))

    result = audit(served.url, vkey(ledger), tmp_path / "state", "--full",
                   "--token", auditor_token)

    assert result.exit_code == 1, result.output
    assert "root differs: entries were altered" in result.output
    assert re.search(r"\bseq 4\b", result.output), result.output


def test_a_database_restored_from_an_older_backup_fails_the_audit(
        ledger: Ledger, platform: PlatformFixture, tmp_path: Path,
        backup: Callable[[], str]) -> None:
    record(ledger, platform, 3)
    sign_checkpoints(ledger)
    copy = backup()
    record(ledger, platform, 2)
    sign_checkpoints(ledger)
    with live_server(ledger) as original:
        kept = audit(original.url, vkey(ledger), tmp_path / "state")
    assert kept.exit_code == 0, kept.output  # the auditor keeps the checkpoint of size 5

    restored = build(replace(ledger.settings, database_url=copy))
    try:
        record(restored, platform, 4)
        sign_checkpoints(restored)  # size 7, consistent with all the backup knows
        with live_server(restored) as server:
            result = audit(server.url, vkey(restored), tmp_path / "state")
    finally:
        restored.close()

    assert result.exit_code == 1, result.output
    assert "not consistent with the checkpoint of size 5 kept on" in result.output
    # What the auditor kept is left as it was, for the next run and as evidence.
    (kept_file,) = (tmp_path / "state").glob("*.checkpoint.json")
    assert json.loads(kept_file.read_text())["checkpoint"].split("\n")[1] == "5"


def test_the_full_audit_needs_a_reader_token(
        ledger: Ledger, platform: PlatformFixture, served: LiveServer, tmp_path: Path) -> None:
    record(ledger, platform, 2)
    sign_checkpoints(ledger)
    teller = create_tokens(ledger.sessions).by_role["teller"]
    result = audit(served.url, vkey(ledger), tmp_path / "state", "--full", "--token", teller)
    assert result.exit_code == 2, result.output
    assert "403" in result.output or "refused" in result.output, result.output


def test_a_ledger_cut_short_and_signed_again_fails_the_audit(
        ledger: Ledger, platform: PlatformFixture, served: LiveServer, tmp_path: Path) -> None:
    record(ledger, platform, 6)
    sign_checkpoints(ledger)
    assert audit(served.url, vkey(ledger), tmp_path / "state").exit_code == 0
    # The last two entries cut, the tree rebuilt to match, the checkpoints that would betray
    # the cut deleted, and the shorter log signed again: all an insider with the key can do.
    with ledger.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SET LOCAL session_replication_role = replica"))
        else:
            for table in ("ledger_entries", "checkpoints"):
                connection.execute(text(f"DROP TRIGGER {table}_no_delete"))
        connection.execute(text("DELETE FROM ledger_entries WHERE seq > 4"))
        connection.execute(text("DELETE FROM checkpoints WHERE log = 'ledger'"))
        connection.execute(text("DELETE FROM merkle_tiles WHERE log = 'ledger'"))
    with ledger.sessions.begin() as session:
        grow_tree(session, 1, recomputed_leaf_hashes(ledger))
    assert sign_checkpoints(ledger)[0] == 4  # the ledger log's, signed first

    result = audit(served.url, vkey(ledger), tmp_path / "state")

    assert result.exit_code == 1, result.output
    assert "not consistent with the checkpoint of size 6 kept on" in result.output
