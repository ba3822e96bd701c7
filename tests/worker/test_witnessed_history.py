"""SPEC §14, what witnesses catch, done for real: `pointsledger witness serve` as a township runs
it, the ledger's checkpointer asking it, and the database then restored from an older backup
and appended to, or cut short. Whoever holds the database and the ledger key can sign what they
like; a witness that cosigned a larger history refuses every checkpoint that contradicts it."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from sqlalchemy import delete, text

from ledger.bootstrap import Ledger, build
from ledger.infra.db.models import CheckpointRow, LedgerEntryRow, MerkleTile, WitnessCosignature
from ledger.infra.db.tree_store import LEDGER_LOG, TileStore
from ledger.service.checkpoints import log_signer
from ledger.service.tree import grow_tree
from ledger.service.witnesses import add_witness
from tests.ledger.test_merkle_tree import recomputed_leaf_hashes
from tests.support import PlatformFixture
from tests.worker.test_witness_asking import asker, cosigned_sizes, record, sign

POINTSLEDGER = str(Path(sys.executable).parent / "pointsledger")
START_TIMEOUT_S = 20.0


@dataclass
class RunningWitness:
    process: subprocess.Popen[bytes]
    url: str
    vkey: str
    log: Path

    def said(self) -> str:
        return self.log.read_text(encoding="utf-8")


@pytest.fixture
def township_witness(ledger: Ledger, tmp_path: Path) -> Iterator[RunningWitness]:
    """`pointsledger witness keygen` and `serve`, holding the ledger's log to its vkey."""
    key_file = tmp_path / "witness.key"
    made = subprocess.run([POINTSLEDGER, "witness", "keygen", "--name", "witness.guali.example",
                           "--out", str(key_file)], capture_output=True, text=True, check=True)
    vkey = made.stdout.strip()
    log_vkey = log_signer(ledger.settings.log_origin, LEDGER_LOG, ledger.ledger_key()).vkey()
    log = tmp_path / "witness.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [POINTSLEDGER, "witness", "serve", "--key-file", str(key_file), "--log-vkey",
             log_vkey, "--state", str(tmp_path / "witness-state"), "--listen", "127.0.0.1:0"],
            stdout=output, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not (found := re.search(r"answers (http://\S+)/add-checkpoint",
                                      log.read_text(encoding="utf-8"))):
            assert process.poll() is None, log.read_text(encoding="utf-8")
            assert time.monotonic() < deadline, "the witness never said where it answers"
            time.sleep(0.05)
        yield RunningWitness(process, found.group(1), vkey, log)
    finally:
        process.terminate()
        assert process.wait(timeout=START_TIMEOUT_S) == 0


def witnessed(ledger: Ledger, platform: PlatformFixture, witness: RunningWitness,
              sizes: tuple[int, ...]) -> None:
    """Record up to each size, sign it, and have the witness cosign it."""
    with ledger.sessions.begin() as session:
        add_witness(session, "test", "guali", witness.url, witness.vkey, ledger.clock())
    for size in sizes:
        record(ledger, platform, size - len(recomputed_leaf_hashes(ledger)))
        sign(ledger)
        asker(ledger, "guali").ask_round()
    assert cosigned_sizes(ledger, "guali") == list(sizes)


def test_a_database_restored_from_an_older_backup_and_appended_to_is_refused(
        ledger: Ledger, platform: PlatformFixture, township_witness: RunningWitness,
        backup: Callable[[], str], caplog: pytest.LogCaptureFixture) -> None:
    witnessed(ledger, platform, township_witness, (3,))
    copy = backup()
    record(ledger, platform, 2)
    sign(ledger)
    asker(ledger, "guali").ask_round()
    assert cosigned_sizes(ledger, "guali") == [3, 5]

    # The bank's database is lost and restored from the backup of size 3; the ledger carries
    # on, and its next checkpoint (size 7) is consistent with everything the backup knows.
    restored = build(replace(ledger.settings, database_url=copy))
    try:
        record(restored, platform, 4)
        assert sign(restored).size == 7
        asker(restored, "guali").ask_round()

        assert cosigned_sizes(restored, "guali") == [3]  # nothing more is cosigned
        errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
        assert any("cosigned size 5, which this ledger never signed" in e for e in errors)
        # The witness said why it refused: the ledger asked from 3, it holds 5.
        assert re.search(r"refused a checkpoint of .*409", township_witness.said())
    finally:
        restored.close()


def test_a_ledger_cut_short_and_signed_again_is_refused(
        ledger: Ledger, platform: PlatformFixture, township_witness: RunningWitness,
        caplog: pytest.LogCaptureFixture) -> None:
    witnessed(ledger, platform, township_witness, (3, 6))
    # Someone with the database's owner rights cuts the last two entries, rebuilds the tree
    # to match and deletes the checkpoints and cosignatures that would betray the cut.
    with ledger.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SET LOCAL session_replication_role = replica"))
        else:
            for table in ("ledger_entries", "checkpoints", "witness_cosignatures"):
                connection.execute(text(f"DROP TRIGGER {table}_no_delete"))
        connection.execute(delete(LedgerEntryRow).where(LedgerEntryRow.seq > 4))
        connection.execute(delete(WitnessCosignature))
        connection.execute(delete(CheckpointRow).where(CheckpointRow.size > 3))
        connection.execute(delete(MerkleTile).where(MerkleTile.log == LEDGER_LOG))
    leaves = recomputed_leaf_hashes(ledger)
    with ledger.sessions.begin() as session:
        grow_tree(session, 1, leaves)
        assert TileStore(session, LEDGER_LOG).size() == 4
    assert sign(ledger).size == 4

    asker(ledger, "guali").ask_round()

    assert cosigned_sizes(ledger, "guali") == []
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert any("cosigned size 6, which this ledger never signed" in e for e in errors)
    assert re.search(r"refused a checkpoint of .*409", township_witness.said())
