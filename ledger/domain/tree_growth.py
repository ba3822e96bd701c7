"""What a growing Merkle tree adds to each level of its C2SP hash tiles (SPEC §14).

Tile level 0 gains the leaf hashes themselves; tile level l gains the nodes of Merkle level 8·l
as appends complete them. Storing those, and nothing else, keeps every hash a proof needs
(`ledger.contract.tiles.node_from_tile` computes the levels in between).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from ledger.contract.merkle import HASH_SIZE_BYTES, Frontier
from ledger.contract.tiles import TILE_HEIGHT, TILE_WIDTH_HASHES

TILE_SIZE_MAX_BYTES = TILE_WIDTH_HASHES * HASH_SIZE_BYTES

# A tile as stored: (tile level, tile index, its hashes concatenated).
TileBytes = tuple[int, int, bytes]


class TileGrowth:
    """A tree grown leaf by leaf from `frontier`, and the hashes each tile level gained since.

    `gained[l]` holds the new hashes of tile level l in index order, the first of them at node
    index `first_index(l)` (the count that level had before, or after the last `take_full_tiles`).
    """

    def __init__(self, frontier: Frontier | None = None) -> None:
        self.frontier = frontier if frontier is not None else Frontier()
        self._start_size = self.frontier.size
        self.gained: list[list[bytes]] = []
        self._taken: list[int] = []  # per tile level: hashes handed out by take_full_tiles

    def append(self, leaf_hash: bytes) -> None:
        self._gain(0, leaf_hash)
        for level, _, hash_ in self.frontier.append(leaf_hash):
            if level % TILE_HEIGHT == 0:
                self._gain(level // TILE_HEIGHT, hash_)

    def extend(self, leaf_hashes: Iterable[bytes]) -> None:
        for leaf_hash in leaf_hashes:
            self.append(leaf_hash)

    def _gain(self, tile_level: int, hash_: bytes) -> None:
        if tile_level == len(self.gained):
            self.gained.append([])
            self._taken.append(0)
        self.gained[tile_level].append(hash_)

    def first_index(self, tile_level: int) -> int:
        """The node index (Merkle level 8·tile_level) of `gained[tile_level][0]`."""
        return (self._start_size >> (TILE_HEIGHT * tile_level)) + self._taken[tile_level]

    def take_full_tiles(self) -> list[TileBytes]:
        """The tiles completed since the last call, whole, and forget their hashes: for a reader
        that compares a tree with the stored one as it goes. The tree must have started at a
        size whose every level ends on a tile boundary (as the empty tree does)."""
        tiles: list[TileBytes] = []
        for tile_level, hashes in enumerate(self.gained):
            first = self.first_index(tile_level)
            assert first % TILE_WIDTH_HASHES == 0, "the tree started inside a tile"
            full = len(hashes) // TILE_WIDTH_HASHES * TILE_WIDTH_HASHES
            for offset in range(0, full, TILE_WIDTH_HASHES):
                tiles.append((tile_level, (first + offset) // TILE_WIDTH_HASHES,
                              b"".join(hashes[offset:offset + TILE_WIDTH_HASHES])))
            del hashes[:full]
            self._taken[tile_level] += full
        return tiles

    def tiles(self, stored_tile: Callable[[int, int], bytes]) -> list[TileBytes]:
        """Every tile the gained hashes change, whole: a partial tile the tree had before is
        `stored_tile(level, index)` followed by its new hashes."""
        tiles: list[TileBytes] = []
        for tile_level, hashes in enumerate(self.gained):
            first = self.first_index(tile_level)
            index, offset = divmod(first, TILE_WIDTH_HASHES)
            prefix = stored_tile(tile_level, index) if offset else b""
            assert len(prefix) == offset * HASH_SIZE_BYTES, "the stored tile is not the tree's"
            data = prefix + b"".join(hashes)
            for start in range(0, len(data), TILE_SIZE_MAX_BYTES):
                tiles.append((tile_level, index + start // TILE_SIZE_MAX_BYTES,
                              data[start:start + TILE_SIZE_MAX_BYTES]))
        return tiles
