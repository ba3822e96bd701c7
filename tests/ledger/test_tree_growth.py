"""The tiles a growing tree changes (`ledger.domain.tree_growth`), pure: grown in any pieces,
each piece's tiles written over the last, they are the tiles of the whole tree at once."""

from __future__ import annotations

import hashlib

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.contract.merkle import Frontier
from ledger.contract.tiles import tile_data, tiles_for_size
from ledger.domain.tree_growth import TileGrowth

TileMap = dict[tuple[int, int], bytes]


def leaf(index: int) -> bytes:
    return hashlib.sha256(b"\x00" + index.to_bytes(8, "big")).digest()


def reference(size: int) -> TileMap:
    nodes: dict[tuple[int, int], bytes] = {}
    frontier = Frontier()
    for index in range(size):
        nodes[(0, index)] = leaf(index)
        nodes.update({(level, at): hash_ for level, at, hash_ in frontier.append(leaf(index))})
    return {(tile.level, tile.index): tile_data(tile, lambda level, at: nodes[(level, at)])
            for tile in tiles_for_size(size)}


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=700), min_size=1, max_size=6))
def test_tiles_grown_piece_by_piece_are_the_whole_trees(pieces: list[int]) -> None:
    stored: TileMap = {}
    frontier = Frontier()
    for count in pieces:
        growth = TileGrowth(frontier)
        growth.extend(leaf(index) for index in range(frontier.size, frontier.size + count))
        stored.update({(level, index): data for level, index, data in growth.tiles(
            lambda level, index: stored[(level, index)])})
    assert stored == reference(sum(pieces))


@settings(max_examples=20, deadline=None)
@given(st.integers(min_value=0, max_value=1500), st.integers(min_value=1, max_value=600))
def test_full_tiles_taken_as_they_complete_and_the_rest_are_the_whole_trees(
        size: int, every: int) -> None:
    growth = TileGrowth()
    taken: TileMap = {}
    for index in range(size):
        growth.append(leaf(index))
        if index % every == 0:
            taken.update({(level, at): data for level, at, data in growth.take_full_tiles()})
    taken.update({(level, at): data for level, at, data in growth.take_full_tiles()})
    assert all(len(data) == 256 * 32 for data in taken.values())
    partial = {(level, growth.first_index(level) // 256): b"".join(hashes)
               for level, hashes in enumerate(growth.gained) if hashes}
    assert {**taken, **partial} == reference(size)
