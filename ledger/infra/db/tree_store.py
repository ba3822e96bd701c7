"""A log's Merkle tree kept as C2SP hash tiles in `merkle_tiles` (SPEC §14).

Any node is computed from its tile (at most 127 hashes under it), and each tile is read once per
store: a store lives for one transaction. Growing the tree costs one read (the tiles on its
right edge) and one write (every tile that changed, whole) per append transaction, whatever the
number of entries.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import and_, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ledger.contract.merkle import HASH_SIZE_BYTES, Frontier
from ledger.contract.tiles import TILE_HEIGHT, TILE_WIDTH_HASHES, node_from_tile, tile_of_node
from ledger.domain.tree_growth import TileBytes, TileGrowth
from ledger.infra.db.models import MerkleTile

LEDGER_LOG = "ledger"
# The audit trail is a second log with the same machinery (SPEC §14).
AUDIT_LOG = "audit"
# Tiles a store keeps once read: a root or a proof reads one per tile level (O(log₂₅₆ n)).
TILE_CACHE_MAX = 64

TileKey = tuple[int, int]  # (tile level, tile index)


class TreeHashMissing(LookupError):
    """The store lacks a hash its tree must have: a tile was deleted or cut short."""


class TreeOutOfStep(RuntimeError):
    """The stored tree is not at the size an append says the log had before it."""


class TileStore:
    """One log's tiles, read and written in the caller's session."""

    def __init__(self, session: Session, log: str = LEDGER_LOG) -> None:
        self._session = session
        self._log = log
        self._tiles: dict[TileKey, bytes] = {}  # b"" when the tile is not stored

    def tile(self, level: int, index: int) -> bytes:
        """The stored bytes of tile (level, index); b"" when there is no such tile."""
        key = (level, index)
        if key not in self._tiles:
            self.prefetch([key])
        return self._tiles[key]

    def hash_at(self, level: int, index: int) -> bytes:
        """The hash of the perfect subtree at Merkle (level, index): a `HashAt`."""
        tile = tile_of_node(level, index)
        data = self.tile(tile.level, tile.index)
        try:
            return node_from_tile(level, index, data)
        except ValueError as error:
            raise TreeHashMissing(
                f"{self._log} tree: no stored hash for node ({level}, {index}): tile "
                f"{tile.level}/{tile.index} holds {len(data) // HASH_SIZE_BYTES} hashes"
            ) from error

    def size(self) -> int:
        """The tree's size as its level-0 tiles say: the leaves they hold."""
        row = self._session.execute(
            select(MerkleTile.index, func.length(MerkleTile.hashes))
            .where(MerkleTile.log == self._log, MerkleTile.level == 0)
            .order_by(MerkleTile.index.desc()).limit(1)).first()
        if row is None:
            return 0
        return int(row[0]) * TILE_WIDTH_HASHES + int(row[1]) // HASH_SIZE_BYTES

    def grow(self, size_before: int, leaf_hashes: Sequence[bytes]) -> bytes:
        """Append `leaf_hashes` to the tree of `size_before` leaves, writing every tile that
        changed; the new root. The caller holds the log's append lock."""
        self.prefetch(_edge_tiles(size_before, size_before + len(leaf_hashes)))
        self._check_size(size_before)
        growth = TileGrowth(Frontier.from_stored(size_before, self.hash_at))
        growth.extend(leaf_hashes)
        tiles = growth.tiles(self.tile)
        self._write(tiles)
        return growth.frontier.root()

    def _check_size(self, size: int) -> None:
        """At every tile level, the right-most tile holds exactly what a tree of `size` has."""
        level = 0
        while True:
            count = size >> (TILE_HEIGHT * level)
            index, width = divmod(count, TILE_WIDTH_HASHES)
            stored = len(self.tile(level, index)) // HASH_SIZE_BYTES
            if stored != width:
                raise TreeOutOfStep(
                    f"{self._log} tree: tile {level}/{index} holds {stored} hashes; a tree of "
                    f"{size} leaves has {width} there")
            if count < TILE_WIDTH_HASHES:
                return
            level += 1

    def prefetch(self, keys: Sequence[TileKey]) -> None:
        """Read the tiles of `keys` (tile level, index) not read yet, in one query."""
        wanted = [key for key in dict.fromkeys(keys) if key not in self._tiles]
        if not wanted:
            return
        rows = self._session.execute(
            select(MerkleTile.level, MerkleTile.index, MerkleTile.hashes).where(
                MerkleTile.log == self._log,
                or_(*[and_(MerkleTile.level == level, MerkleTile.index == index)
                      for level, index in wanted])))
        found = {(row[0], row[1]): bytes(row[2]) for row in rows}
        for key in wanted:
            self._remember(key, found.get(key, b""))

    def _remember(self, key: TileKey, data: bytes) -> None:
        self._tiles.pop(key, None)
        while len(self._tiles) >= TILE_CACHE_MAX:
            del self._tiles[next(iter(self._tiles))]
        self._tiles[key] = data

    def _write(self, tiles: Sequence[TileBytes]) -> None:
        """Upsert the tiles whole, in one statement: a partial tile is rewritten with its new
        hashes (read, extended and written back here, not concatenated in SQL, where SQLite
        would turn the blob into text)."""
        if not tiles:
            return
        dialect = self._session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = insert(MerkleTile).values([
            {"log": self._log, "level": level, "index": index, "hashes": data}
            for level, index, data in tiles])
        self._session.execute(statement.on_conflict_do_update(
            index_elements=["log", "level", "index"],
            set_={"hashes": statement.excluded.hashes}))
        for level, index, data in tiles:
            self._remember((level, index), data)


def _edge_tiles(size_before: int, size_after: int) -> list[TileKey]:
    """The tiles growing from `size_before` to `size_after` reads: those holding the frontier's
    nodes, and at each tile level the right-most tile, which the growth extends or starts."""
    keys: list[TileKey] = []
    for level in range(size_before.bit_length()):
        if size_before >> level & 1:
            start = size_before >> (level + 1) << (level + 1)
            tile = tile_of_node(level, start >> level)
            keys.append((tile.level, tile.index))
    tile_level = 0
    while tile_level == 0 or size_after >> (TILE_HEIGHT * tile_level):
        keys.append((tile_level, (size_before >> (TILE_HEIGHT * tile_level)) // TILE_WIDTH_HASHES))
        tile_level += 1
    return keys
