"""SPEC §14: properties of the Merkle tree over trees of a few thousand leaves — every proof a
stored-node callback produces verifies against MTH, in O(log n) reads, and no corruption passes."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.contract.merkle import (
    Frontier,
    ProofInvalid,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    root_from_leaf_hashes,
    root_from_stored,
    subtree_hash,
    verify_consistency,
    verify_inclusion,
)
from tests.contract.test_merkle import NodeStore, flip_bit

BIG_SIZE = 3000
BIG_LEAF_HASHES = [leaf_hash(f"leaf {i}".encode()) for i in range(BIG_SIZE)]
BIG_STORE = NodeStore(BIG_LEAF_HASHES)


def calls_bound(size: int) -> int:
    """O(log n): one stored node per proof hash plus one right-edge subtree split into pieces."""
    return 2 * size.bit_length() + 1


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_every_inclusion_proof_verifies_against_mth(data: st.DataObject) -> None:
    size = data.draw(st.integers(min_value=1, max_value=BIG_SIZE), label="size")
    index = data.draw(st.integers(min_value=0, max_value=size - 1), label="index")
    root = root_from_leaf_hashes(BIG_LEAF_HASHES[:size])
    calls: list[tuple[int, int]] = []
    proof = inclusion_proof(index, size, BIG_STORE.reader(size, calls))
    assert len(calls) <= calls_bound(size)
    verify_inclusion(index, size, BIG_LEAF_HASHES[index], proof, root)
    if proof:
        position = data.draw(st.integers(0, len(proof) - 1), label="position")
        byte = data.draw(st.integers(0, 31), label="byte")
        corrupted = flip_bit(proof, position, 1, byte)
        with pytest.raises(ProofInvalid):
            verify_inclusion(index, size, BIG_LEAF_HASHES[index], corrupted, root)


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_every_consistency_proof_verifies_against_mth(data: st.DataObject) -> None:
    second = data.draw(st.integers(min_value=1, max_value=BIG_SIZE), label="second")
    first = data.draw(st.integers(min_value=1, max_value=second), label="first")
    first_root = root_from_leaf_hashes(BIG_LEAF_HASHES[:first])
    second_root = root_from_leaf_hashes(BIG_LEAF_HASHES[:second])
    calls: list[tuple[int, int]] = []
    proof = consistency_proof(first, second, BIG_STORE.reader(second, calls))
    assert len(calls) <= calls_bound(second)
    verify_consistency(first, second, first_root, second_root, proof)
    if proof:
        position = data.draw(st.integers(0, len(proof) - 1), label="position")
        byte = data.draw(st.integers(0, 31), label="byte")
        corrupted = flip_bit(proof, position, 1, byte)
        with pytest.raises(ProofInvalid):
            verify_consistency(first, second, first_root, second_root, corrupted)


@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=0, max_value=BIG_SIZE))
def test_stored_root_and_rebuilt_frontier_match_mth(size: int) -> None:
    expected = root_from_leaf_hashes(BIG_LEAF_HASHES[:size])
    calls: list[tuple[int, int]] = []
    assert root_from_stored(size, BIG_STORE.reader(size, calls)) == expected
    assert len(calls) == bin(size).count("1")
    rebuilt = Frontier.from_stored(size, BIG_STORE.reader(size))
    assert rebuilt.root() == expected
    if size < BIG_SIZE:
        rebuilt.append(BIG_LEAF_HASHES[size])
        assert rebuilt.root() == root_from_leaf_hashes(BIG_LEAF_HASHES[: size + 1])


def test_the_incremental_root_equals_mth_at_every_size() -> None:
    frontier = Frontier()
    for size, hash_ in enumerate(BIG_LEAF_HASHES[:700], start=1):
        frontier.append(hash_)
        assert frontier.root() == root_from_leaf_hashes(BIG_LEAF_HASHES[:size]), size


def test_the_frontier_reports_every_perfect_subtree_once() -> None:
    # Level 0 are the leaves; every interior node (L ≥ 1) of size 3000 appears exactly once.
    expected = {
        (level, index)
        for level in range(1, BIG_SIZE.bit_length())
        for index in range(BIG_SIZE >> level)
    }
    assert {key for key in BIG_STORE.nodes if key[0] > 0} == expected
    for level, index in expected:
        start, count = index << level, 1 << level
        if level <= 6:  # enough to tie each stored node to its leaves without O(n²) work
            assert BIG_STORE.nodes[(level, index)] == root_from_leaf_hashes(
                BIG_LEAF_HASHES[start : start + count]
            )


def test_subtree_hash_of_a_right_edge_matches_mth() -> None:
    size = 1000
    assert subtree_hash(512, size - 512, BIG_STORE.reader(size)) == root_from_leaf_hashes(
        BIG_LEAF_HASHES[512:size]
    )
