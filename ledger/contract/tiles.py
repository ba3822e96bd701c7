"""C2SP tlog-tiles coordinates: which tiles a tree has, their paths, their hashes, entry bundles.

A hash tile at tile level l, index n holds up to 256 consecutive Merkle nodes of Merkle level 8·l,
indexes n·256 … n·256+255 (the node naming of `ledger.contract.merkle`). A partial tile (width
1 … 255) is the same sequence cut short at the tree's right edge. Entry bundles mirror level 0.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ledger.contract.merkle import HASH_SIZE_BYTES, HashAt, root_from_leaf_hashes

TILE_HEIGHT = 8
TILE_WIDTH_HASHES = 1 << TILE_HEIGHT
TILE_LEVEL_MAX = 63
# Tile indexes are unsigned 64-bit integers in every implementation we interoperate with.
TILE_INDEX_MAX = 2**64 - 1
ENTRY_SIZE_MAX_BYTES = 0xFFFF  # a bundle prefixes each entry with a big-endian uint16 length
ENTRY_LENGTH_PREFIX_BYTES = 2

_LEVEL = re.compile(r"0|[1-9][0-9]?")
_WIDTH = re.compile(r"[1-9][0-9]{0,2}")
_INDEX_GROUP = re.compile(r"x[0-9]{3}")
_INDEX_LAST = re.compile(r"[0-9]{3}")


class TilePathInvalid(ValueError):
    """A path is not `tile/<L>/<N>[.p/<W>]` nor `tile/entries/<N>[.p/<W>]` as tlog-tiles spells it.

    Only the canonical spelling is accepted, so one tile has one URL; the HTTP layer answers 4xx."""


class EntryTooLarge(ValueError):
    """An entry does not fit the 2-byte length prefix of an entry bundle."""


class EntryBundleInvalid(ValueError):
    """Bytes that do not split into length-prefixed entries."""


def _check_width(width: int) -> None:
    if not 1 <= width <= TILE_WIDTH_HASHES:
        raise ValueError(f"a tile holds 1 to {TILE_WIDTH_HASHES} hashes, not {width}")


def _check_index(index: int) -> None:
    if not 0 <= index <= TILE_INDEX_MAX:
        raise ValueError(f"a tile index is from 0 to 2^64 − 1, not {index}")


def encode_tile_index(index: int) -> str:
    """N as tlog-tiles writes it: 3-digit groups, all but the last prefixed with `x`."""
    _check_index(index)
    groups = [f"{index % 1000:03d}"]
    index //= 1000
    while index:
        groups.append(f"x{index % 1000:03d}")
        index //= 1000
    return "/".join(reversed(groups))


def _suffix(width: int) -> str:
    return "" if width == TILE_WIDTH_HASHES else f".p/{width}"


@dataclass(frozen=True)
class Tile:
    """A hash tile: `level` is the tile level (Merkle level 8·level), `width` its hash count."""

    level: int
    index: int
    width: int = TILE_WIDTH_HASHES

    def __post_init__(self) -> None:
        if not 0 <= self.level <= TILE_LEVEL_MAX:
            raise ValueError(f"a tile level is from 0 to {TILE_LEVEL_MAX}, not {self.level}")
        _check_index(self.index)
        _check_width(self.width)

    @property
    def is_partial(self) -> bool:
        return self.width < TILE_WIDTH_HASHES

    @property
    def path(self) -> str:
        return f"tile/{self.level}/{encode_tile_index(self.index)}{_suffix(self.width)}"

    def nodes(self) -> list[tuple[int, int]]:
        """The Merkle (level, index) of each hash the tile holds, in order."""
        first = self.index * TILE_WIDTH_HASHES
        return [(self.level * TILE_HEIGHT, first + i) for i in range(self.width)]


@dataclass(frozen=True)
class EntryBundle:
    """An entry bundle: the entries of the leaves `index`·256 … `index`·256 + `width` − 1."""

    index: int
    width: int = TILE_WIDTH_HASHES

    def __post_init__(self) -> None:
        _check_index(self.index)
        _check_width(self.width)

    @property
    def is_partial(self) -> bool:
        return self.width < TILE_WIDTH_HASHES

    @property
    def path(self) -> str:
        return f"tile/entries/{encode_tile_index(self.index)}{_suffix(self.width)}"

    def leaf_indexes(self) -> range:
        first = self.index * TILE_WIDTH_HASHES
        return range(first, first + self.width)


def _parse_index(path: str, text: str) -> int:
    *groups, last = text.split("/")
    if not all(_INDEX_GROUP.fullmatch(group) for group in groups) or not _INDEX_LAST.fullmatch(
        last
    ):
        raise TilePathInvalid(
            f"tile path {path!r}: the index must be 3-digit groups, all but the last "
            f"starting with x (x001/x234/067)"
        )
    if groups and groups[0] == "x000":
        raise TilePathInvalid(f"tile path {path!r}: the index has a leading zero group")
    index = int("".join(group.removeprefix("x") for group in groups) + last)
    if index > TILE_INDEX_MAX:
        raise TilePathInvalid(f"tile path {path!r}: the index is beyond 2^64 − 1")
    return index


def parse_tile_path(path: str) -> Tile | EntryBundle:
    """The tile or entry bundle a `tile/…` path names; `TilePathInvalid` if it is misspelt.

    Only the one canonical spelling of each tile is accepted (no leading zeros anywhere, no
    `.p/256`), so a cache sees each tile under one name."""
    head, _, rest = path.partition("/")
    if head != "tile" or not rest:
        raise TilePathInvalid(f"tile path {path!r}: it must start with tile/")
    level_text, _, rest = rest.partition("/")
    index_text, partial, width_text = rest.partition(".p/")
    width = TILE_WIDTH_HASHES
    if partial:
        if not _WIDTH.fullmatch(width_text) or int(width_text) >= TILE_WIDTH_HASHES:
            raise TilePathInvalid(
                f"tile path {path!r}: a partial width is a decimal from 1 to "
                f"{TILE_WIDTH_HASHES - 1} without leading zeros"
            )
        width = int(width_text)
    index = _parse_index(path, index_text)
    if level_text == "entries":
        return EntryBundle(index, width)
    if not _LEVEL.fullmatch(level_text) or int(level_text) > TILE_LEVEL_MAX:
        raise TilePathInvalid(
            f"tile path {path!r}: the level is `entries` or a decimal from 0 to "
            f"{TILE_LEVEL_MAX} without leading zeros"
        )
    return Tile(int(level_text), index, width)


def _hashes_at_tile_level(level: int, size: int) -> int:
    """How many hashes of tile level `level` a tree of `size` leaves has (complete ones only)."""
    return size >> (TILE_HEIGHT * level)


def is_in_tree(tile: Tile | EntryBundle, size: int) -> bool:
    """True when every hash (or entry) of `tile` exists in the tree of `size` leaves.

    Those bytes never change once they exist, so such a tile may be served for good."""
    count = size if isinstance(tile, EntryBundle) else _hashes_at_tile_level(tile.level, size)
    return tile.index * TILE_WIDTH_HASHES + tile.width <= count


def tiles_for_size(size: int) -> list[Tile]:
    """Every hash tile of the tree of `size` leaves, level by level from 0: the full tiles,
    then the partial one if the level's hash count is not a multiple of 256."""
    tiles: list[Tile] = []
    level = 0
    while count := _hashes_at_tile_level(level, size):
        full, rest = divmod(count, TILE_WIDTH_HASHES)
        tiles.extend(Tile(level, index) for index in range(full))
        if rest:
            tiles.append(Tile(level, full, rest))
        level += 1
    return tiles


def new_tiles(old_size: int, new_size: int) -> list[Tile]:
    """The hash tiles of `new_size` that the tree of `old_size` did not have: what to write
    when the tree grows (a tile that gained hashes comes back wider or full)."""
    if not 0 <= old_size <= new_size:
        raise ValueError(f"a tree grows from a smaller size: {old_size} to {new_size}")
    tiles: list[Tile] = []
    level = 0
    while new_count := _hashes_at_tile_level(level, new_size):
        old_count = _hashes_at_tile_level(level, old_size)
        for index in range(old_count // TILE_WIDTH_HASHES, -(-new_count // TILE_WIDTH_HASHES)):
            width = min(TILE_WIDTH_HASHES, new_count - index * TILE_WIDTH_HASHES)
            if index * TILE_WIDTH_HASHES + width > old_count:
                tiles.append(Tile(level, index, width))
        level += 1
    return tiles


def entry_bundles_for_size(size: int) -> list[EntryBundle]:
    """Every entry bundle of the tree of `size` leaves: the full ones, then the partial one."""
    full, rest = divmod(size, TILE_WIDTH_HASHES)
    bundles = [EntryBundle(index) for index in range(full)]
    return [*bundles, EntryBundle(full, rest)] if rest else bundles


def tile_data(tile: Tile, hash_at: HashAt) -> bytes:
    """The tile's bytes: its hashes concatenated, read from stored nodes."""
    return b"".join(hash_at(level, index) for level, index in tile.nodes())


def tile_of_node(level: int, index: int) -> Tile:
    """The full tile whose hashes a Merkle node is built from (itself when its level is 8·l)."""
    tile_level, height_in_tile = divmod(level, TILE_HEIGHT)
    return Tile(tile_level, (index << height_in_tile) // TILE_WIDTH_HASHES)


def node_from_tile(level: int, index: int, data: bytes) -> bytes:
    """The hash of Merkle node (level, index) from the bytes of its tile (`tile_of_node`),
    full or partial, hashing the 2^(level mod 8) tile hashes under it."""
    tile = tile_of_node(level, index)
    count = 1 << (level % TILE_HEIGHT)
    first = (index << (level % TILE_HEIGHT)) - tile.index * TILE_WIDTH_HASHES
    end = first + count
    if len(data) % HASH_SIZE_BYTES or len(data) < end * HASH_SIZE_BYTES:
        raise ValueError(
            f"node ({level}, {index}) needs hashes {first}…{end - 1} of {tile.path}; "
            f"the tile has {len(data) / HASH_SIZE_BYTES:g}"
        )
    hashes = [data[i * HASH_SIZE_BYTES : (i + 1) * HASH_SIZE_BYTES] for i in range(first, end)]
    return root_from_leaf_hashes(hashes)


def encode_entry_bundle(entries: Sequence[bytes]) -> bytes:
    """Entries as tlog-tiles bundles them: each a big-endian uint16 length and its bytes."""
    if len(entries) > TILE_WIDTH_HASHES:
        raise ValueError(f"a bundle holds at most {TILE_WIDTH_HASHES} entries, not {len(entries)}")
    parts = []
    for position, entry in enumerate(entries):
        if len(entry) > ENTRY_SIZE_MAX_BYTES:
            raise EntryTooLarge(
                f"entry #{position} has {len(entry)} bytes; a bundle holds at most "
                f"{ENTRY_SIZE_MAX_BYTES} per entry"
            )
        parts.append(len(entry).to_bytes(ENTRY_LENGTH_PREFIX_BYTES, "big") + entry)
    return b"".join(parts)


def decode_entry_bundle(data: bytes) -> list[bytes]:
    """The entries of a bundle; `EntryBundleInvalid` if a length runs past the end."""
    entries: list[bytes] = []
    offset = 0
    while offset < len(data):
        if offset + ENTRY_LENGTH_PREFIX_BYTES > len(data):
            raise EntryBundleInvalid(f"entry #{len(entries)}: the length prefix is cut short")
        length = int.from_bytes(data[offset : offset + ENTRY_LENGTH_PREFIX_BYTES], "big")
        offset += ENTRY_LENGTH_PREFIX_BYTES
        if offset + length > len(data):
            raise EntryBundleInvalid(
                f"entry #{len(entries)} claims {length} bytes; {len(data) - offset} remain"
            )
        entries.append(data[offset : offset + length])
        offset += length
    return entries
