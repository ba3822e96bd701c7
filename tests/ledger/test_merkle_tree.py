"""SPEC §14: the ledger's Merkle tree, kept as C2SP hash tiles grown with every append.

The leaves are recomputed here from the entries as the API shows them (JCS by `rfc8785`, the
0x00 prefix), and the tiles compared with those of a tree held in memory.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
import rfc8785
from alembic import command
from sqlalchemy import delete, select, update

from ledger.bootstrap import Ledger, build
from ledger.contract.categories import EntryKind
from ledger.contract.merkle import (
    Frontier,
    consistency_proof,
    inclusion_proof,
    root_from_leaf_hashes,
    root_from_stored,
    verify_consistency,
    verify_inclusion,
)
from ledger.contract.tiles import tile_data, tiles_for_size
from ledger.domain.outcomes import Status
from ledger.infra.db.migrate import alembic_config, upgrade
from ledger.infra.db.models import MerkleTile
from ledger.infra.db.tree_store import TileStore, TreeOutOfStep
from ledger.service import appending, own_entries
from ledger.service.chain_audit import ChainFault, audit_chain
from ledger.service.ledger_read import entry_document_with_hash
from ledger.service.own_entries import append_own_entry, lock_ledger
from tests.conftest import make_settings
from tests.ledger.helpers import entries, invoke, signed_by_a_stranger
from tests.support import RESIDENT_B, PlatformFixture, register_platform

TileMap = dict[tuple[int, int], bytes]


def recomputed_leaf_hashes(ledger: Ledger) -> list[bytes]:
    """SHA-256(0x00 ‖ JCS(entry)) of every entry as GET /ledger/entries shows it."""
    leaves = []
    for row in entries(ledger):
        document = entry_document_with_hash(row)
        del document["entry_hash"]
        leaves.append(hashlib.sha256(b"\x00" + rfc8785.dumps(document)).digest())
    return leaves


def reference_tiles(leaves: list[bytes]) -> TileMap:
    """Every tile of the tree over `leaves`, from every node an in-memory tree completes."""
    nodes: dict[tuple[int, int], bytes] = {}
    frontier = Frontier()
    for index, leaf in enumerate(leaves):
        nodes[(0, index)] = leaf
        nodes.update({(level, at): hash_ for level, at, hash_ in frontier.append(leaf)})
    return {(tile.level, tile.index): tile_data(tile, lambda level, at: nodes[(level, at)])
            for tile in tiles_for_size(len(leaves))}


def stored_tiles(ledger: Ledger) -> TileMap:
    with ledger.sessions() as session:
        return {(row.level, row.index): row.hashes
                for row in session.scalars(select(MerkleTile).where(MerkleTile.log == "ledger"))}


def redeem(ledger: Ledger, platform: str, points: int) -> None:
    now = datetime.now(UTC)
    with ledger.sessions.begin() as session:
        lock_ledger(session)
        append_own_entry(session, EntryKind.REDEEMED, platform, RESIDENT_B, points, now,
                         str(uuid.uuid4()), "XS-GUALI")


def fill_mixed(ledger: Ledger, platform: PlatformFixture, other: PlatformFixture) -> None:
    """Batches with duplicates, refusals and revocations, and redemptions at a counter."""
    first = platform.delivery(resident=RESIDENT_B, points=40)
    outcomes = ledger.ingestor.ingest([first, platform.delivery(), other.delivery(points=7)])
    outcomes += ledger.ingestor.ingest([
        first, signed_by_a_stranger(platform),
        platform.delivery(type="points.revoked", revokes="lijiayuan-2", points=10),
        platform.delivery(type="points.revoked", revokes="lijiayuan-2", points=10),
        other.delivery(type="points.deducted", points=2)])
    redeem(ledger, platform.code, 5)
    outcomes += ledger.ingestor.ingest([platform.delivery(points=3) for _ in range(6)])
    redeem(ledger, platform.code, 1)
    assert [outcome.status for outcome in outcomes] == [
        *[Status.RECORDED] * 3, Status.DUPLICATE, Status.REJECTED, Status.RECORDED,
        Status.REJECTED, Status.RECORDED, *[Status.RECORDED] * 6]


@pytest.fixture
def mixed(ledger: Ledger, platform: PlatformFixture, other_platform: PlatformFixture) -> Ledger:
    fill_mixed(ledger, platform, other_platform)
    return ledger


def test_the_stored_root_is_the_root_of_every_entrys_leaf_hash(mixed: Ledger) -> None:
    leaves = recomputed_leaf_hashes(mixed)
    assert len(leaves) == 13
    with mixed.sessions() as session:
        store = TileStore(session)
        assert store.size() == len(leaves)
        assert root_from_stored(len(leaves), store.hash_at) == root_from_leaf_hashes(leaves)
    assert stored_tiles(mixed) == reference_tiles(leaves)


def test_proofs_from_the_stored_tiles_verify_for_every_index_and_size(mixed: Ledger) -> None:
    leaves = recomputed_leaf_hashes(mixed)
    roots = [root_from_leaf_hashes(leaves[:size]) for size in range(len(leaves) + 1)]
    with mixed.sessions() as session:
        hash_at = TileStore(session).hash_at
        for size in range(1, len(leaves) + 1):
            for index in range(size):
                verify_inclusion(index, size, leaves[index],
                                 inclusion_proof(index, size, hash_at), roots[size])
            for first in range(size + 1):
                verify_consistency(first, size, roots[first], roots[size],
                                   consistency_proof(first, size, hash_at))


def test_tiles_across_tile_boundaries_are_the_reference_trees(
        ledger: Ledger, platform: PlatformFixture) -> None:
    """Batches ending anywhere in a tile; a full level-0 tile, so a level-1 tile too."""
    for count in (1, 100, 155, 44, 3):
        outcomes = ledger.ingestor.ingest([platform.delivery() for _ in range(count)])
        assert all(outcome.status is Status.RECORDED for outcome in outcomes)
        leaves = recomputed_leaf_hashes(ledger)
        assert stored_tiles(ledger) == reference_tiles(leaves)
    assert set(stored_tiles(ledger)) == {(0, 0), (0, 1), (1, 0)}
    assert audit_chain_root(ledger) == root_from_leaf_hashes(leaves).hex()


def audit_chain_root(ledger: Ledger) -> str:
    with ledger.sessions() as session:
        report = audit_chain(session)
    assert report.intact, report
    return report.root


def test_a_batch_that_rolls_back_leaves_the_tiles_unchanged(
        mixed: Ledger, platform: PlatformFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    before = stored_tiles(mixed)

    def fail(*_: object) -> None:
        raise RuntimeError("the database went away after the tree grew")

    with monkeypatch.context() as patched:
        patched.setattr(appending, "record_platform_seqs", fail)
        with pytest.raises(RuntimeError, match="went away"):
            mixed.ingestor.ingest([platform.delivery()])
    assert stored_tiles(mixed) == before
    with pytest.raises(RuntimeError, match="went away"), mixed.sessions.begin() as session:
        lock_ledger(session)
        append_own_entry(session, EntryKind.REDEEMED, platform.code, RESIDENT_B, 1,
                         datetime.now(UTC), str(uuid.uuid4()), "XS-GUALI")
        fail()
    assert stored_tiles(mixed) == before
    assert mixed.ingestor.ingest([platform.delivery()])[0].status is Status.RECORDED
    assert stored_tiles(mixed) == reference_tiles(recomputed_leaf_hashes(mixed))


def test_growing_from_a_size_the_tree_is_not_at_is_refused(mixed: Ledger) -> None:
    with mixed.sessions() as session:
        store = TileStore(session)
        with pytest.raises(TreeOutOfStep, match="tile 0/0 holds 13 hashes"):
            store.grow(12, [bytes(32)])


def test_verify_names_the_tree_when_a_tile_is_altered(mixed: Ledger, database_url: str) -> None:
    tile = stored_tiles(mixed)[(0, 0)]
    altered = tile[:5 * 32] + bytes(32) + tile[6 * 32:]
    with mixed.sessions.begin() as session:
        session.execute(update(MerkleTile).where(MerkleTile.level == 0)
                        .values(hashes=altered))
    with mixed.sessions() as session:
        report = audit_chain(session)
    assert (report.first_bad_seq, report.fault) == (6, ChainFault.TREE)
    assert "tile 0/0 differs at hash 5" in report.problem
    result = invoke(database_url, "verify")
    assert result.exit_code == 1
    assert f"chain intact: 13 entries, head {report.head_hash}" in result.output
    assert ("Merkle tree broken at seq 6: the Merkle tree's stored hashes differ from the "
            "entries: tile 0/0 differs at hash 5") in result.output


def test_verify_names_the_tree_when_a_tile_is_deleted(mixed: Ledger, database_url: str) -> None:
    with mixed.sessions.begin() as session:
        session.execute(delete(MerkleTile))
    with mixed.sessions() as session:
        report = audit_chain(session)
    assert (report.first_bad_seq, report.fault) == (1, ChainFault.TREE)
    assert "tile 0/0 is missing" in report.problem
    result = invoke(database_url, "verify")
    assert result.exit_code == 1 and "Merkle tree broken at seq 1" in result.output


def test_verify_reads_every_tile_not_only_those_the_root_is_made_of(
        ledger: Ledger, platform: PlatformFixture, database_url: str) -> None:
    """With 300 entries the root reads node (8, 0) from tile 1/0, not tile 0/0 under it: an
    altered tile 0/0 leaves the stored root right, and its proofs wrong."""
    ledger.ingestor.ingest([platform.delivery() for _ in range(300)])
    tile = stored_tiles(ledger)[(0, 0)]
    root = root_from_leaf_hashes(recomputed_leaf_hashes(ledger))
    with ledger.sessions.begin() as session:
        session.execute(update(MerkleTile).where(MerkleTile.level == 0, MerkleTile.index == 0)
                        .values(hashes=tile[:200 * 32] + bytes(32) + tile[201 * 32:]))
        assert root_from_stored(300, TileStore(session).hash_at) == root
    with ledger.sessions() as session:
        report = audit_chain(session)
    assert (report.first_bad_seq, report.fault) == (201, ChainFault.TREE)
    assert invoke(database_url, "verify").exit_code == 1


def test_verify_names_a_partial_tile_cut_short(mixed: Ledger) -> None:
    with mixed.sessions.begin() as session:
        session.execute(update(MerkleTile).where(MerkleTile.level == 0)
                        .values(hashes=stored_tiles(mixed)[(0, 0)][:10 * 32]))
    with mixed.sessions() as session:
        report = audit_chain(session)
    assert (report.first_bad_seq, report.fault) == (11, ChainFault.TREE)
    assert "tile 0/0 holds 10 hashes, not the entries' 13" in report.problem


def test_verify_says_the_root_it_checked(mixed: Ledger, database_url: str) -> None:
    root = root_from_leaf_hashes(recomputed_leaf_hashes(mixed)).hex()
    result = invoke(database_url, "verify")
    assert result.exit_code == 0, result.output
    assert f"Merkle tree intact: size 13, root {root}" in result.output


# --- The back-fill of migration 0009 -----------------------------------------------------------

def test_the_migration_grows_the_tree_of_an_existing_ledger(
        empty_database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    upgrade(empty_database_url, "0008")
    ledger = build(make_settings(empty_database_url, tmp_path=tmp_path))
    try:
        platform = register_platform(ledger.sessions)
        other = register_platform(ledger.sessions, "nanyang_young", "南阳young", "南阳街道")
        with monkeypatch.context() as before_the_tree:  # the code of revision 0008 grew none
            before_the_tree.setattr(appending, "grow_tree", lambda *_: None)
            before_the_tree.setattr(own_entries, "grow_tree", lambda *_: None)
            fill_mixed(ledger, platform, other)
        config = alembic_config(empty_database_url)
        config.attributes["merkle_backfill_chunk_entries"] = 5  # 13 entries: three chunks
        command.upgrade(config, "head")
        leaves = recomputed_leaf_hashes(ledger)
        assert stored_tiles(ledger) == reference_tiles(leaves)
        assert ledger.ingestor.ingest([platform.delivery()])[0].status is Status.RECORDED
        redeem(ledger, platform.code, 1)
        leaves = recomputed_leaf_hashes(ledger)
        assert stored_tiles(ledger) == reference_tiles(leaves)
        assert audit_chain_root(ledger) == root_from_leaf_hashes(leaves).hex()
    finally:
        ledger.close()


def test_the_back_fill_shows_its_progress_on_a_terminal_and_nothing_on_stdout(
        empty_database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    upgrade(empty_database_url, "0008")
    ledger = build(make_settings(empty_database_url, tmp_path=tmp_path))
    try:
        platform = register_platform(ledger.sessions)
        with monkeypatch.context() as before_the_tree:
            before_the_tree.setattr(appending, "grow_tree", lambda *_: None)
            ledger.ingestor.ingest([platform.delivery(points=points) for points in (1, 2, 3)])
    finally:
        ledger.close()
    capsys.readouterr()
    # pytest's captured stderr stands in for a terminal: our check and rich's both say so.
    monkeypatch.setattr("ledger.runtime.progress._stderr_is_terminal", lambda: True)
    monkeypatch.setenv("FORCE_COLOR", "1")

    upgrade(empty_database_url)

    shown = capsys.readouterr()
    assert shown.out == ""
    assert "ledger entries into the Merkle tree" in shown.err
    assert "3/3" in shown.err
