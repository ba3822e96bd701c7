"""SPEC §14: checkpoints of both logs, signed under the ledger key as C2SP signed notes, kept
append-only, and the proofs served up to their sizes, checked with the contract's verifiers
against roots recomputed here from the rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DBAPIError

from ledger.bootstrap import Ledger, build
from ledger.contract.checkpoint import open_checkpoint
from ledger.contract.cosignature import CosignatureSigner, CosignatureVerifier
from ledger.contract.merkle import (
    root_from_leaf_hashes,
    root_from_stored,
    verify_consistency,
    verify_inclusion,
)
from ledger.contract.note import open_note
from ledger.contract.note_keys import Verifier
from ledger.domain.entry import leaf_hash
from ledger.infra.db.migrate import upgrade
from ledger.infra.db.models import AuditEvent, CheckpointRow, MerkleTile, Witness
from ledger.infra.db.tree_store import AUDIT_LOG, LEDGER_LOG, TileStore
from ledger.service import administration, audit_trail
from ledger.service.audit_trail import record_of, verify_audit_trail
from ledger.service.chain_audit import ChainFault
from ledger.service.checkpoints import (
    CheckpointPolicy,
    TreeContradictsCheckpoint,
    log_origin,
    log_signer,
    published_note,
    sign_if_due,
)
from ledger.service.errors import Conflict, InvalidInput, NotFound
from ledger.service.proofs import consistency, inclusion, inclusion_in_latest
from ledger.service.tree import catch_up_audit_tree
from ledger.service.witnesses import add_witness, record_cosignature, witness_standings
from ledger.worker.checkpointer import Checkpointer
from ledger.worker.witness_asking import AskingPolicy, WitnessAsking
from tests.api.support import dead_ledger
from tests.conftest import make_settings
from tests.ledger.helpers import invoke
from tests.ledger.test_merkle_tree import recomputed_leaf_hashes
from tests.support import PlatformFixture

NOW = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)
ALWAYS = CheckpointPolicy(interval_s=0, poll_s=0)


def record(ledger: Ledger, platform: PlatformFixture, count: int) -> None:
    outcomes = ledger.ingestor.ingest([platform.delivery() for _ in range(count)])
    assert all(outcome.status.value == "recorded" for outcome in outcomes)


def sign(ledger: Ledger, log: str = LEDGER_LOG, policy: CheckpointPolicy = ALWAYS,
         now: datetime = NOW) -> CheckpointRow | None:
    signer = log_signer(ledger.settings.log_origin, log, ledger.ledger_key())
    with ledger.sessions.begin() as session:
        row = sign_if_due(session, log, signer, policy, now)
        if row is not None:
            session.expunge(row)
        return row


def log_verifier(ledger: Ledger, log: str = LEDGER_LOG) -> Verifier:
    return Verifier.from_vkey(
        log_signer(ledger.settings.log_origin, log, ledger.ledger_key()).vkey())


def test_a_checkpoint_signs_the_root_of_every_entry(ledger: Ledger,
                                                    platform: PlatformFixture) -> None:
    assert sign(ledger) is None  # an empty tree is not signed
    record(ledger, platform, 5)
    row = sign(ledger)
    assert row is not None and row.size == 5
    origin = ledger.settings.log_origin
    checkpoint, _ = open_checkpoint(row.note, origin, log_verifier(ledger))
    assert checkpoint.size == 5
    assert checkpoint.root_hash == root_from_leaf_hashes(recomputed_leaf_hashes(ledger))
    assert sign(ledger) is None  # nothing grew: nothing new


def test_growth_is_signed_once_the_interval_has_passed(ledger: Ledger,
                                                       platform: PlatformFixture) -> None:
    policy = CheckpointPolicy(interval_s=10, poll_s=1)
    record(ledger, platform, 1)
    assert sign(ledger, policy=policy) is not None
    record(ledger, platform, 1)
    assert sign(ledger, policy=policy, now=NOW + timedelta(seconds=5)) is None
    row = sign(ledger, policy=policy, now=NOW + timedelta(seconds=9))
    assert row is not None and row.size == 2


def test_checkpoints_are_append_only(ledger: Ledger, platform: PlatformFixture) -> None:
    record(ledger, platform, 2)
    sign(ledger)
    for statement in (update(CheckpointRow).values(size=1), delete(CheckpointRow)):
        with pytest.raises(DBAPIError, match="append-only"), ledger.sessions.begin() as session:
            session.execute(statement)


def test_the_ledger_refuses_to_sign_a_tree_that_contradicts_its_last_checkpoint(
        ledger: Ledger, platform: PlatformFixture) -> None:
    record(ledger, platform, 3)
    sign(ledger)
    record(ledger, platform, 1)
    # A leaf of the signed history rewritten in the tiles (as a restored or edited database
    # would have it): the ledger must not sign a root that contradicts what it has shown.
    with ledger.sessions.begin() as session:
        tile = session.scalars(select(MerkleTile).where(
            MerkleTile.log == LEDGER_LOG, MerkleTile.level == 0)).one()
        tile.hashes = bytes(32) + tile.hashes[32:]
    with pytest.raises(TreeContradictsCheckpoint, match="history was rewritten"):
        sign(ledger)
    # Cut short below the checkpoint: refused too, naming the sizes.
    with ledger.sessions.begin() as session:
        tile = session.scalars(select(MerkleTile).where(
            MerkleTile.log == LEDGER_LOG, MerkleTile.level == 0)).one()
        tile.hashes = tile.hashes[:64]
    with pytest.raises(TreeContradictsCheckpoint, match="holds 2 leaves, fewer than the 3"):
        sign(ledger)


def test_proofs_hold_between_checkpoints_and_for_each_entry(ledger: Ledger,
                                                            platform: PlatformFixture) -> None:
    record(ledger, platform, 3)
    first = sign(ledger)
    record(ledger, platform, 6)
    second = sign(ledger)
    assert first is not None and second is not None
    leaves = recomputed_leaf_hashes(ledger)
    with ledger.sessions() as session:
        hashes = consistency(session, LEDGER_LOG, 3, 9)
        verify_consistency(3, 9, first.root, second.root, hashes)
        for seq in range(1, 10):
            proof = inclusion(session, LEDGER_LOG, seq, 9)
            assert proof.leaf_hash == leaves[seq - 1]
            verify_inclusion(seq - 1, 9, proof.leaf_hash, proof.hashes, second.root)
        latest, checkpoint = inclusion_in_latest(session, LEDGER_LOG, 4)
        assert checkpoint.size == 9 and latest.hashes == inclusion(session, LEDGER_LOG, 4, 9).hashes
        with pytest.raises(InvalidInput, match="second=8 is not the size of a signed"):
            consistency(session, LEDGER_LOG, 3, 8)
        with pytest.raises(InvalidInput, match="tree_size=5 is not the size"):
            inclusion(session, LEDGER_LOG, 1, 5)
        with pytest.raises(InvalidInput, match="seq=10 is not in the tree of size 9"):
            inclusion(session, LEDGER_LOG, 10, 9)
        with pytest.raises(InvalidInput, match="first=10 must be between 0 and second=9"):
            consistency(session, LEDGER_LOG, 10, 9)
    record(ledger, platform, 1)
    with ledger.sessions() as session, pytest.raises(NotFound, match="no signed checkpoint"):
        inclusion_in_latest(session, LEDGER_LOG, 10)


def test_the_audit_trail_is_a_second_log(ledger: Ledger) -> None:
    with ledger.sessions.begin() as session:
        for number in range(3):
            administration.add_branch(session, "test", f"BR{number}", f"支行 {number}", NOW)
    row = sign(ledger, AUDIT_LOG)
    assert row is not None and row.size == 3
    origin = log_origin(ledger.settings.log_origin, AUDIT_LOG)
    assert origin == ledger.settings.log_origin + "/audit"
    checkpoint, _ = open_checkpoint(row.note, origin, log_verifier(ledger, AUDIT_LOG))
    with ledger.sessions() as session:
        events = list(session.scalars(select(AuditEvent).order_by(AuditEvent.seq)))
        assert verify_audit_trail(session).intact
    assert checkpoint.root_hash == root_from_leaf_hashes(
        [leaf_hash(record_of(event).document()) for event in events])
    # The ledger's key under the ledger's name does not sign the audit log's checkpoints.
    with pytest.raises(ValueError, match="signed by none of the trusted keys"):
        open_checkpoint(row.note, origin, log_verifier(ledger, LEDGER_LOG))


def test_verify_catches_an_altered_audit_tile(ledger: Ledger) -> None:
    with ledger.sessions.begin() as session:
        administration.add_branch(session, "test", "BR1", "支行", NOW)
        administration.add_branch(session, "test", "BR2", "支行", NOW)
    with ledger.sessions.begin() as session:
        session.execute(update(MerkleTile).where(MerkleTile.log == AUDIT_LOG)
                        .values(hashes=bytes(64)))
    with ledger.sessions() as session:
        report = verify_audit_trail(session)
    assert report.fault is ChainFault.TREE
    assert "audit log's Merkle tree differs" in report.problem


def test_cosignatures_are_published_with_the_checkpoint(ledger: Ledger,
                                                        platform: PlatformFixture) -> None:
    witness_key = CosignatureSigner("witness.example.org", Ed25519PrivateKey.generate())
    with ledger.sessions.begin() as session:
        with pytest.raises(InvalidInput, match="not a cosignature verifier key"):
            add_witness(session, "test", "town", "https://w.example.org", "nonsense", NOW)
        with pytest.raises(InvalidInput, match="http or https base URL"):
            add_witness(session, "test", "town", "ftp://w.example.org", witness_key.vkey(), NOW)
        with pytest.raises(InvalidInput, match="without credentials"):
            add_witness(session, "test", "town", "https://u:secret@w.example.org",
                        witness_key.vkey(), NOW)
        add_witness(session, "test", "town", "https://w.example.org/", witness_key.vkey(), NOW)
    with ledger.sessions.begin() as session, pytest.raises(Conflict, match="already registered"):
        add_witness(session, "test", "town", "https://w.example.org", witness_key.vkey(), NOW)
    record(ledger, platform, 2)
    row = sign(ledger)
    assert row is not None
    cosignature = witness_key.cosign(open_note(row.note, [log_verifier(ledger)]).text,
                                     int(NOW.timestamp()))
    with ledger.sessions.begin() as session:
        record_cosignature(session, session.merge(row), session.get_one(Witness, "town"),
                           cosignature, NOW, NOW)
    with ledger.sessions() as session:
        note = published_note(session, session.merge(row))
        (standing,) = witness_standings(session, LEDGER_LOG)
        assert (standing.name, standing.url, standing.last_size) == (
            "town", "https://w.example.org", 2)
        assert witness_standings(session, AUDIT_LOG)[0].last_size is None
        trail = session.scalars(select(AuditEvent).where(
            AuditEvent.action == "witness.added")).one()
        assert trail.subject == "witness:town"
    verifier = CosignatureVerifier.from_vkey(witness_key.vkey())
    _, opened = open_checkpoint(note, ledger.settings.log_origin, log_verifier(ledger),
                                [verifier])
    assert {signature.name for signature in opened.signatures} == {
        ledger.settings.log_origin, "witness.example.org"}


def test_the_checkpointer_says_once_why_it_will_not_sign(
        ledger: Ledger, platform: PlatformFixture, caplog: pytest.LogCaptureFixture) -> None:
    checkpointer = Checkpointer(ledger, ALWAYS)
    record(ledger, platform, 2)
    assert [row.size for row in checkpointer.sign_due()] == [2]
    with ledger.sessions.begin() as session:
        session.execute(text("DELETE FROM merkle_tiles"))
    assert checkpointer.sign_due() == []
    assert checkpointer.sign_due() == []
    refusals = [r for r in caplog.records if "not signing the ledger log" in r.getMessage()]
    assert len(refusals) == 1


def test_the_commands(ledger: Ledger, platform: PlatformFixture, database_url: str,
                      tmp_path: Path) -> None:
    env = {"ledger_key_file": str(ledger.settings.ledger_key_file),
           "log_origin": "bank.example/ledger"}
    record(ledger, platform, 2)
    result = invoke(database_url, "checkpoints", "sign", **env)
    assert result.exit_code == 0, result.output
    assert "ledger: signed size 2" in result.output
    assert "audit: nothing new to sign" in result.output
    vkey = invoke(database_url, "keys", "ledger", "--vkey", "--log", "audit", **env)
    assert vkey.output.startswith("bank.example/ledger/audit+")
    witness = CosignatureSigner("w.example", Ed25519PrivateKey.generate())
    added = invoke(database_url, "witnesses", "add", "town", "--url", "http://w.example",
                   "--vkey", witness.vkey())
    assert added.exit_code == 0, added.output
    listed = invoke(database_url, "witnesses", "list")
    assert "town\tledger\thttp://w.example\tnothing yet" in listed.output
    refused = invoke(database_url, "witnesses", "add", "town", "--url", "http://w.example",
                     "--vkey", "bad")
    assert refused.exit_code == 2
    assert "not a cosignature verifier key" in refused.output


class _NoTree:
    """The audit trail as the code before revision 0010 kept it: no tree."""

    def __init__(self, *_: object) -> None:
        pass

    def grow(self, *_: object) -> bytes:
        return b""


def test_the_migration_grows_the_audit_trail_tree_of_an_existing_ledger(
        empty_database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    upgrade(empty_database_url, "0009")
    ledger = build(make_settings(empty_database_url, tmp_path=tmp_path))
    try:
        with monkeypatch.context() as before_the_tree:
            before_the_tree.setattr(audit_trail, "TileStore", _NoTree)
            with ledger.sessions.begin() as session:
                for number in range(7):
                    administration.add_branch(session, "test", f"BR{number}", "支行", NOW)
        upgrade(empty_database_url)
        with ledger.sessions.begin() as session:  # and the tree grows on from there
            administration.add_branch(session, "test", "BR7", "支行", NOW)
        with ledger.sessions() as session:
            events = list(session.scalars(select(AuditEvent).order_by(AuditEvent.seq)))
            stored = root_from_stored(8, TileStore(session, AUDIT_LOG).hash_at)
            assert verify_audit_trail(session).intact
        assert stored == root_from_leaf_hashes(
            [leaf_hash(record_of(event).document()) for event in events])
    finally:
        ledger.close()


def test_a_bulk_loaded_trail_gets_its_tree(ledger: Ledger, monkeypatch: pytest.MonkeyPatch) -> None:
    with monkeypatch.context() as bulk_load:
        bulk_load.setattr(audit_trail, "TileStore", _NoTree)
        with ledger.sessions.begin() as session:
            for number in range(5):
                administration.add_branch(session, "test", f"BR{number}", "支行", NOW)
    with ledger.sessions.begin() as session:
        assert catch_up_audit_tree(session) == 5
    with ledger.sessions.begin() as session:
        administration.add_branch(session, "test", "BR5", "支行", NOW)
    with ledger.sessions() as session:
        assert verify_audit_trail(session).intact


def test_the_checkpointer_waits_out_a_database_it_cannot_reach(
        ledger: Ledger, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    unreachable = dead_ledger(ledger, tmp_path)
    try:
        checkpointer = Checkpointer(unreachable, ALWAYS)
        asking = WitnessAsking(unreachable, AskingPolicy(poll_s=0.05), checkpointer.stop)
        checkpointer.round(asking)  # neither raises nor ends the run
        checkpointer.round(asking)
    finally:
        unreachable.close()
    said = [r.getMessage() for r in caplog.records if "database is unavailable" in r.getMessage()]
    assert len(said) == 1
