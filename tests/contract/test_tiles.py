"""SPEC §14: the tree served as C2SP tlog-tiles, paths and contents as other clients expect them."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.contract.merkle import (
    Frontier,
    inclusion_proof,
    leaf_hash,
    root_from_leaf_hashes,
    root_from_stored,
    verify_inclusion,
)
from ledger.contract.tiles import (
    EntryBundle,
    EntryBundleInvalid,
    EntryTooLarge,
    Tile,
    TilePathInvalid,
    decode_entry_bundle,
    encode_entry_bundle,
    encode_tile_index,
    entry_bundles_for_size,
    is_in_tree,
    new_tiles,
    node_from_tile,
    parse_tile_path,
    tile_data,
    tile_of_node,
    tiles_for_size,
)

# Paths: C2SP/C2SP, tlog-tiles.md ("index 1234067 will be encoded as x001/x234/067"), and
# transparency-dev/trillian-tessera, api/layout/paths_test.go (TestTilePath, TestEntriesPath,
# TestEntriesPathForLogIndex) — tile level, index, width → path.
TILE_PATHS = [
    (Tile(0, 0), "tile/0/000"),
    (Tile(0, 0, 255), "tile/0/000.p/255"),
    (Tile(1, 0), "tile/1/000"),
    (Tile(15, 455667), "tile/15/x455/667"),
    (Tile(15, 123456789, 41), "tile/15/x123/x456/789.p/41"),
    (Tile(0, 1234067), "tile/0/x001/x234/067"),
    (EntryBundle(0), "tile/entries/000"),
    (EntryBundle(0, 8), "tile/entries/000.p/8"),
    (EntryBundle(255), "tile/entries/255"),
    (EntryBundle(255, 253), "tile/entries/255.p/253"),
    (EntryBundle(1), "tile/entries/001"),
    (EntryBundle(1, 1), "tile/entries/001.p/1"),
    (EntryBundle(123456789), "tile/entries/x123/x456/789"),
    (EntryBundle(1234067), "tile/entries/x001/x234/067"),
]
# More from letsencrypt/boulder, trees/tiles/tiles_test.go (TestPath: entries and level 2).
TILE_PATHS += [
    (EntryBundle(0, 1), "tile/entries/000.p/1"),
    (EntryBundle(10), "tile/entries/010"),
    (EntryBundle(1234067, 6), "tile/entries/x001/x234/067.p/6"),
    (Tile(2, 0, 1), "tile/2/000.p/1"),
    (Tile(2, 10), "tile/2/010"),
    (Tile(2, 1234067, 6), "tile/2/x001/x234/067.p/6"),
]
# Parsed but never written by us: trillian-tessera's TestParseTileLevelIndexPartial.
PARSED_ONLY = [
    ("tile/63/x999/x999/x999/x999/x999/999.p/255", Tile(63, 999999999999999999, 255)),
    ("tile/0/001", Tile(0, 1)),
    ("tile/0/x001/x234/067.p/89", Tile(0, 1234067, 89)),
]
# Refused: trillian-tessera's TestParseTileLevelIndexPartial error cases, golang/mod
# sumdb/tlog/tlog_test.go's invalid paths (which carry a tile height, as tlog-tiles paths do not),
# and spellings tlog-tiles rules out (leading zeros, `.p/0`, `.p/256`, a level above 63).
INVALID_PATHS = [
    "tile/0/x001/x234/067.p/",
    "tile/0/x001/x234/067.p",
    "tile/0/x001/x234/",
    "tile/0/x001/x234",
    "tile/0/x001/",
    "tile/0/x001",
    "tile/1/x001/.p/abc",
    "tile/64/x001/002",
    "tile/-1/x001/002",
    "tile/abc/x001/002",
    "tile/8/001/002",
    "tile/8/x001/0002",
    "tile/8/x001/-002",
    "tile/8/x001/002.p/256",
    "tile/63/x999/x999/x999/x999/x999/x999/999.p/255",
    "tile/3/5/123/456/078",
    "tile/3/-1/123/456/078",
    "tile/3/5/x123/x456/078",
    "tile/1/data/x003/x057/500",
    "tile/00/000",
    "tile/0/000.p/0",
    "tile/0/000.p/07",
    "tile/0/x000/001",
    "tile/0/1",
    "tile/0/0001",
    "tile/entries",
    "tile/entries/",
    "tile/",
    "tiles/0/000",
    "/tile/0/000",
    "tile/0/000/",
    "tile/0/000\n",
    "tile/0/٠٠٠",
    "checkpoint",
]


@pytest.mark.parametrize(("tile", "path"), TILE_PATHS)
def test_paths_are_spelt_as_tlog_tiles_spells_them(tile: Tile | EntryBundle, path: str) -> None:
    assert tile.path == path
    assert parse_tile_path(path) == tile


@pytest.mark.parametrize(("path", "tile"), PARSED_ONLY)
def test_paths_other_implementations_accept_are_parsed(path: str, tile: Tile) -> None:
    assert parse_tile_path(path) == tile


@pytest.mark.parametrize("path", INVALID_PATHS)
def test_misspelt_paths_are_refused_with_a_sentence(path: str) -> None:
    with pytest.raises(TilePathInvalid, match="tile path"):
        parse_tile_path(path)


def test_the_spec_index_example() -> None:
    assert encode_tile_index(1234067) == "x001/x234/067"
    assert encode_tile_index(0) == "000"
    assert encode_tile_index(1000) == "x001/000"


@settings(max_examples=200, deadline=None)
@given(
    st.integers(min_value=0, max_value=63),
    st.integers(min_value=0, max_value=2**64 - 1),
    st.integers(min_value=1, max_value=256),
)
def test_every_tile_path_parses_back(level: int, index: int, width: int) -> None:
    assert parse_tile_path(Tile(level, index, width).path) == Tile(level, index, width)
    assert parse_tile_path(EntryBundle(index, width).path) == EntryBundle(index, width)


def test_the_tiles_of_a_tree_of_70000_as_the_spec_counts_them() -> None:
    # tlog-tiles.md: "273 full level 0 tiles, one partial level 0 tile of width 112, one full
    # level 1 tile, one partial level 1 tile of width 17, and one partial level 2 tile of width 1".
    tiles = tiles_for_size(70_000)
    assert [tile for tile in tiles if tile.level == 0] == [
        *[Tile(0, index) for index in range(273)], Tile(0, 273, 112)
    ]
    assert [tile for tile in tiles if tile.level > 0] == [Tile(1, 0), Tile(1, 1, 17), Tile(2, 0, 1)]


def test_the_tiles_of_a_tree_of_256_as_the_spec_counts_them() -> None:
    # tlog-tiles.md: "a full level 0 tile and a partial level 1 tile of width 1".
    assert tiles_for_size(256) == [Tile(0, 0), Tile(1, 0, 1)]
    assert tiles_for_size(0) == []


def test_entry_bundles_follow_level_0() -> None:
    assert entry_bundles_for_size(70_000)[-2:] == [EntryBundle(272), EntryBundle(273, 112)]
    assert entry_bundles_for_size(512) == [EntryBundle(0), EntryBundle(1)]
    assert EntryBundle(1, 3).leaf_indexes() == range(256, 259)


def test_a_tile_is_in_the_tree_once_all_its_hashes_exist() -> None:
    assert is_in_tree(Tile(0, 0, 5), 5)
    assert not is_in_tree(Tile(0, 0, 6), 5)
    assert is_in_tree(Tile(0, 0, 5), 300)  # a partial tile stays true after the full one
    assert not is_in_tree(Tile(1, 0, 2), 511)
    assert is_in_tree(Tile(1, 0, 2), 512)
    assert is_in_tree(EntryBundle(1, 1), 257)
    assert not is_in_tree(EntryBundle(1), 511)


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 140_000), st.integers(0, 140_000))
def test_new_tiles_are_what_the_larger_tree_has_and_the_smaller_lacks(a: int, b: int) -> None:
    old_size, new_size = min(a, b), max(a, b)
    old_tiles = set(tiles_for_size(old_size))
    expected = [tile for tile in tiles_for_size(new_size) if tile not in old_tiles]
    assert new_tiles(old_size, new_size) == expected
    assert all(is_in_tree(tile, new_size) for tile in expected)


# --- Contents ------------------------------------------------------------------------------------
# The tree of letsencrypt/boulder, trees/tiles/tiles_test.go (TestStorageCorrectness): 66000
# entries, testEntryBody(i) = 00 00 00 01 ‖ "entry-<i>-" ‖ "x"·(i mod 37), three tile levels high,
# whose root that test pins.
BOULDER_SIZE = 66_000
BOULDER_ROOT = base64.b64decode("+AWMUCk19n0KCYumG1DKQ4dW3hcS8C/ygvZB7mP5NOU=")
ENTRIES = [b"\x00\x00\x00\x01entry-%d-" % i + b"x" * (i % 37) for i in range(BOULDER_SIZE)]
LEAF_HASHES = [leaf_hash(entry) for entry in ENTRIES]
NODES: dict[tuple[int, int], bytes] = {(0, i): hash_ for i, hash_ in enumerate(LEAF_HASHES)}
FRONTIER = Frontier()
for _hash in LEAF_HASHES:
    NODES.update({(level, index): node for level, index, node in FRONTIER.append(_hash)})


def stored(level: int, index: int) -> bytes:
    return NODES[(level, index)]


# What a server publishes: every tile of the tree, by path.
PUBLISHED = {tile.path: tile_data(tile, stored) for tile in tiles_for_size(BOULDER_SIZE)}


def from_published_tiles(level: int, index: int) -> bytes:
    """`hash_at` as a mirror computes it: from the published tiles alone, full or partial."""
    wanted = tile_of_node(level, index)
    for tile in tiles_for_size(BOULDER_SIZE):
        if (tile.level, tile.index) == (wanted.level, wanted.index):
            return node_from_tile(level, index, PUBLISHED[tile.path])
    raise AssertionError(f"no tile holds node ({level}, {index})")


def test_the_boulder_tree_has_the_root_boulder_pins() -> None:
    assert FRONTIER.root() == BOULDER_ROOT
    assert root_from_leaf_hashes(LEAF_HASHES) == BOULDER_ROOT
    upper = sorted(path for path in PUBLISHED if not path.startswith("tile/0/"))
    assert upper == ["tile/1/000", "tile/1/001.p/1", "tile/2/000.p/1"]
    assert len(PUBLISHED) - len(upper) == 258 and "tile/0/257.p/208" in PUBLISHED


def test_a_mirror_of_the_tiles_alone_recomputes_the_root_and_proofs() -> None:
    assert root_from_stored(BOULDER_SIZE, from_published_tiles) == BOULDER_ROOT
    for index in (0, 65_535, 65_536, BOULDER_SIZE - 1):
        proof = inclusion_proof(index, BOULDER_SIZE, from_published_tiles)
        verify_inclusion(index, BOULDER_SIZE, LEAF_HASHES[index], proof, BOULDER_ROOT)


def test_level_1_tile_hashes_are_the_roots_of_full_level_0_tiles() -> None:
    # tlog-tiles.md: MTH(D[(n·256 + i)·256^l : (n·256 + i + 1)·256^l]).
    data = PUBLISHED["tile/1/000"]
    assert len(data) == 256 * 32
    for i in (0, 255):
        first = i * 256
        expected = root_from_leaf_hashes(LEAF_HASHES[first : first + 256])
        assert data[i * 32 : (i + 1) * 32] == expected
    assert PUBLISHED["tile/0/257.p/208"] == b"".join(LEAF_HASHES[257 * 256 :])


def test_a_level_2_tile_holds_the_root_of_the_first_65536_leaves() -> None:
    assert PUBLISHED["tile/2/000.p/1"] == root_from_leaf_hashes(LEAF_HASHES[:65_536])


def test_entries_in_a_bundle_hash_to_their_level_0_tile() -> None:
    bundle = EntryBundle(257, 208)
    data = encode_entry_bundle([ENTRIES[i] for i in bundle.leaf_indexes()])
    hashes = b"".join(leaf_hash(entry) for entry in decode_entry_bundle(data))
    assert hashes == PUBLISHED["tile/0/257.p/208"]


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_any_stored_node_is_rebuilt_from_its_tile(data: st.DataObject) -> None:
    level = data.draw(st.integers(0, 16), label="level")
    index = data.draw(st.integers(0, (BOULDER_SIZE >> level) - 1), label="index")
    assert from_published_tiles(level, index) == NODES[(level, index)]


def test_a_node_beyond_a_partial_tile_is_refused() -> None:
    with pytest.raises(ValueError, match="needs hashes"):
        node_from_tile(0, 257 * 256 + 208, PUBLISHED["tile/0/257.p/208"])


# --- Entry bundles -------------------------------------------------------------------------------
def test_an_entry_bundle_is_uint16_length_prefixed() -> None:
    bundle = encode_entry_bundle([b"", b"ab", b"x" * 300])
    assert bundle[:6] == b"\x00\x00\x00\x02ab" and bundle[6:8] == b"\x01\x2c"
    assert decode_entry_bundle(bundle) == [b"", b"ab", b"x" * 300]
    assert decode_entry_bundle(b"") == []


def test_bad_entry_bundles_are_refused() -> None:
    with pytest.raises(EntryTooLarge, match="entry #1 has 65536 bytes"):
        encode_entry_bundle([b"", b"x" * 65_536])
    with pytest.raises(EntryBundleInvalid, match="cut short"):
        decode_entry_bundle(b"\x00\x01a\x00")
    with pytest.raises(EntryBundleInvalid, match="claims 5 bytes"):
        decode_entry_bundle(b"\x00\x05abc")
