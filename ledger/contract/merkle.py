"""The ledger's Merkle tree: RFC 9162 §2.1 hashing, an incremental tree, proofs and their checks.

Nodes are named as C2SP tlog-tiles names them: the node at level L, index N is the root of the
perfect subtree over leaves N·2^L … (N+1)·2^L − 1; level 0 holds the leaf hashes themselves.
Only perfect subtrees are ever stored (a node table or tiles answer `hash_at(level, index)`); the
hash of a subtree on the tree's right edge, which is not perfect, is computed from them in
O(log n) calls. No function here reads every leaf except `root_from_leaf_hashes`, the definition.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

HASH_SIZE_BYTES = 32
LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
EMPTY_ROOT = hashlib.sha256(b"").digest()

# (level, index) -> the stored hash of that perfect subtree.
HashAt = Callable[[int, int], bytes]
# A node completed by an append, as a storage layer keeps it: (level, index, hash).
StoredNode = tuple[int, int, bytes]


class ProofInvalid(Exception):
    """A proof, root or leaf hash does not verify; the message names the check that failed."""


class ProofRequestInvalid(ValueError):
    """A proof or root was asked of positions the tree lacks (index ≥ size, first > second)."""


def leaf_hash(data: bytes) -> bytes:
    """MTH of a one-leaf tree: SHA-256(0x00 ‖ data)."""
    return hashlib.sha256(LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """An interior node: SHA-256(0x01 ‖ left ‖ right)."""
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def _split(size: int) -> int:
    """The largest power of two smaller than `size` (≥ 2): where RFC 9162 splits a tree."""
    return 1 << ((size - 1).bit_length() - 1)


def root_from_leaf_hashes(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH(D[n]) of RFC 9162 §2.1.1, over leaves given as their leaf hashes. Reads them all."""
    if not leaf_hashes:
        return EMPTY_ROOT
    if len(leaf_hashes) == 1:
        return leaf_hashes[0]
    k = _split(len(leaf_hashes))
    return node_hash(root_from_leaf_hashes(leaf_hashes[:k]), root_from_leaf_hashes(leaf_hashes[k:]))


def _perfect_subtrees(start: int, count: int) -> list[tuple[int, int]]:
    """The perfect subtrees, largest first, whose leaves are exactly `start` … `start+count−1`.

    Valid for the ranges RFC 9162's recursion produces: `start` is a multiple of every power of
    two in `count`'s binary form, so each piece is aligned and is a stored node."""
    pieces = []
    for level in range(count.bit_length() - 1, -1, -1):
        if count >> level & 1:
            pieces.append((level, start >> level))
            start += 1 << level
    return pieces


def _fold_right(hashes: Sequence[bytes]) -> bytes:
    """MTH of adjacent perfect subtrees given largest first: RFC 9162 splits off the largest."""
    root = hashes[-1]
    for left in reversed(hashes[:-1]):
        root = node_hash(left, root)
    return root


def subtree_hash(start: int, count: int, hash_at: HashAt) -> bytes:
    """MTH(D[start:start+count]) from stored perfect subtrees, in popcount(count) calls."""
    if count == 0:
        return EMPTY_ROOT
    return _fold_right([hash_at(level, index) for level, index in _perfect_subtrees(start, count)])


def root_from_stored(size: int, hash_at: HashAt) -> bytes:
    """The root of the tree of `size` leaves, from stored perfect subtrees (O(log n) calls)."""
    if size < 0:
        raise ProofRequestInvalid(f"a tree size cannot be negative ({size})")
    return subtree_hash(0, size, hash_at)


class Frontier:
    """The tree's right border: the roots of the perfect subtrees that make up its leaves.

    Appending costs O(log n) hashes and says which interior nodes it completed, so a storage
    layer can keep every perfect-subtree hash that proofs will ask for; `root()` needs no leaf."""

    def __init__(self) -> None:
        self._size = 0
        self._border: list[tuple[int, bytes]] = []  # (level, hash), largest subtree first

    @classmethod
    def from_stored(cls, size: int, hash_at: HashAt) -> Frontier:
        """The frontier of a tree of `size` leaves, rebuilt from popcount(size) stored nodes."""
        if size < 0:
            raise ProofRequestInvalid(f"a tree size cannot be negative ({size})")
        frontier = cls()
        frontier._size = size
        frontier._border = [
            (level, hash_at(level, index)) for level, index in _perfect_subtrees(0, size)
        ]
        return frontier

    @property
    def size(self) -> int:
        return self._size

    @property
    def nodes(self) -> list[StoredNode]:
        """The border as stored nodes (level, index, hash), largest subtree first."""
        return [
            (level, index, hash_)
            for (level, index), (_, hash_) in zip(
                _perfect_subtrees(0, self._size), self._border, strict=True
            )
        ]

    def append(self, leaf_hash: bytes) -> list[StoredNode]:
        """Add one leaf; return the interior nodes (level ≥ 1) it completed, lowest first.

        The leaf itself (level 0, index = the old size) is not in the list: it is the entry's
        own `leaf_hash`, which the storage layer already keeps."""
        if len(leaf_hash) != HASH_SIZE_BYTES:
            raise ValueError(f"a leaf hash has {HASH_SIZE_BYTES} bytes, not {len(leaf_hash)}")
        self._size += 1
        completed: list[StoredNode] = []
        level, hash_ = 0, leaf_hash
        while self._border and self._border[-1][0] == level:
            _, left = self._border.pop()
            level, hash_ = level + 1, node_hash(left, hash_)
            # A node at `level` completes when the size becomes a multiple of 2^level.
            completed.append((level, (self._size >> level) - 1, hash_))
        self._border.append((level, hash_))
        return completed

    def root(self) -> bytes:
        """MTH of the tree as it stands, from the border alone."""
        if not self._border:
            return EMPTY_ROOT
        return _fold_right([hash_ for _, hash_ in self._border])


def inclusion_proof(index: int, size: int, hash_at: HashAt) -> list[bytes]:
    """PATH(index, D[size]) of RFC 9162 §2.1.3.1, deepest sibling first, in O(log n) calls."""
    if not 0 <= index < size:
        raise ProofRequestInvalid(f"leaf index {index} is not in a tree of size {size}")
    siblings: list[bytes] = []
    start, count, position = 0, size, index
    while count > 1:
        k = _split(count)
        if position < k:
            siblings.append(subtree_hash(start + k, count - k, hash_at))
            count = k
        else:
            siblings.append(hash_at(k.bit_length() - 1, start // k))
            start, count, position = start + k, count - k, position - k
    return siblings[::-1]


def consistency_proof(first: int, second: int, hash_at: HashAt) -> list[bytes]:
    """PROOF(first, D[second]) of RFC 9162 §2.1.4.1, in O(log n) calls.

    Empty when `first` is 0 or equal to `second`: those trees are consistent by definition."""
    if not 0 <= first <= second:
        raise ProofRequestInvalid(
            f"no consistency proof from size {first} to size {second}: need 0 ≤ first ≤ second"
        )
    if first in (0, second):
        return []
    siblings: list[bytes] = []
    start, count, old = 0, second, first
    first_is_a_whole_subtree = True  # SUBPROOF's flag b: D[0:first] is a subtree of the new tree
    while old != count:
        k = _split(count)
        if old <= k:
            siblings.append(subtree_hash(start + k, count - k, hash_at))
            count = k
        else:
            siblings.append(hash_at(k.bit_length() - 1, start // k))
            start, count, old = start + k, count - k, old - k
            first_is_a_whole_subtree = False
    if not first_is_a_whole_subtree:
        # The loop stops only after a step left, so D[start:start+count] is a perfect subtree;
        # when it is D[0:first] itself (b still set) the verifier has its hash already.
        siblings.append(hash_at(count.bit_length() - 1, start // count))
    return siblings[::-1]


def _check_hash(what: str, value: bytes) -> None:
    if len(value) != HASH_SIZE_BYTES:
        raise ProofInvalid(f"the {what} has {len(value)} bytes, not {HASH_SIZE_BYTES}")


def verify_inclusion(
    index: int, size: int, leaf_hash: bytes, proof: Sequence[bytes], root: bytes
) -> None:
    """RFC 9162 §2.1.3.2: raise `ProofInvalid` unless `proof` puts `leaf_hash` at `index`
    in the tree of `size` leaves whose root is `root`."""
    if not 0 <= index < size:
        raise ProofInvalid(f"leaf index {index} is not in a tree of size {size}")
    _check_hash("leaf hash", leaf_hash)
    _check_hash("root hash", root)
    fn, sn, computed = index, size - 1, leaf_hash
    for position, sibling in enumerate(proof):
        _check_hash(f"inclusion proof hash #{position}", sibling)
        if sn == 0:
            raise ProofInvalid(
                f"the inclusion proof for leaf {index} in size {size} has {len(proof)} hashes: "
                f"too many"
            )
        if fn & 1 or fn == sn:
            computed = node_hash(sibling, computed)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            computed = node_hash(computed, sibling)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofInvalid(
            f"the inclusion proof for leaf {index} in size {size} has {len(proof)} hashes: too few"
        )
    if computed != root:
        raise ProofInvalid(
            f"the inclusion proof for leaf {index} does not lead to the root of size {size}"
        )


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]
) -> None:
    """RFC 9162 §2.1.4.2: raise `ProofInvalid` unless the tree of size `first` with `first_root`
    is a prefix of the tree of size `second` with `second_root`."""
    _check_hash("first root hash", first_root)
    _check_hash("second root hash", second_root)
    for position, hash_ in enumerate(proof):
        _check_hash(f"consistency proof hash #{position}", hash_)
    if not 0 <= first <= second:
        raise ProofInvalid(f"a tree of size {second} cannot extend one of size {first}")
    if first in (0, second):
        if proof:
            raise ProofInvalid(
                f"the consistency proof from size {first} to {second} must be empty"
            )
        if first == 0 and first_root != EMPTY_ROOT:
            raise ProofInvalid("the root of the empty tree is not SHA-256 of the empty string")
        if first == second and first_root != second_root:
            raise ProofInvalid(f"two different roots for the same size {first}")
        return
    if not proof:
        raise ProofInvalid(f"the consistency proof from size {first} to {second} is empty")
    path = list(proof)
    if first & (first - 1) == 0:
        # The old tree is a perfect subtree of the new one; the proof leaves out its root.
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    first_computed = second_computed = path[0]
    for hash_ in path[1:]:
        if sn == 0:
            raise ProofInvalid(
                f"the consistency proof from size {first} to {second} has too many hashes"
            )
        if fn & 1 or fn == sn:
            first_computed = node_hash(hash_, first_computed)
            second_computed = node_hash(hash_, second_computed)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            second_computed = node_hash(second_computed, hash_)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofInvalid(f"the consistency proof from size {first} to {second} is too short")
    if first_computed != first_root:
        raise ProofInvalid(f"the consistency proof does not lead to the root of size {first}")
    if second_computed != second_root:
        raise ProofInvalid(f"the consistency proof does not lead to the root of size {second}")
