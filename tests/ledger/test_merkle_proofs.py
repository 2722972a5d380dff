"""Proofs built from stored nodes match RFC 6962's definitions, verify with the
RFC 9162 verifier, and cost O(log n) node reads even at a million leaves."""

from __future__ import annotations

import timeit
from collections.abc import Callable, Iterator
from functools import cache, partial
from typing import Any

import pytest
from ledger_support import NodeStore, leaves_of, ref_mth, ref_path, ref_proof

from infrastructure.ledger.merkle import (
    EMPTY_ROOT,
    NodeId,
    consistency_plan,
    consistency_proof,
    inclusion_plan,
    inclusion_proof,
    leaf_hash,
    mth,
    node_hash,
    range_node_ids,
    root_from_nodes,
)
from infrastructure.ledger.proofs import (
    ProofError,
    consistency_proof_length,
    inclusion_proof_length,
    verify_consistency,
    verify_inclusion,
)

SMALL = 70  # every size, index and pair of sizes up to here, exhaustively


@cache
def _small_tree() -> tuple[list[bytes], NodeStore]:
    leaves = leaves_of(SMALL)
    return leaves, NodeStore.of_leaves(leaves)


def test_mth_is_the_rfc_definition() -> None:
    leaves, store = _small_tree()
    assert mth([]) == EMPTY_ROOT
    for size in range(SMALL + 1):
        want = ref_mth(leaves[:size])
        assert mth(leaves[:size]) == want
        assert root_from_nodes(size, store.get_node) == want


def test_inclusion_proofs_are_rfc_paths_and_verify() -> None:
    leaves, store = _small_tree()
    for size in range(1, SMALL + 1):
        root = ref_mth(leaves[:size])
        for index in range(size):
            proof = inclusion_proof(index, size, store.get_node)
            assert proof == ref_path(index, leaves[:size])
            assert len(proof) == inclusion_proof_length(index, size)
            verify_inclusion(leaves[index], index, size, proof, root)


def test_consistency_proofs_are_rfc_proofs_and_verify() -> None:
    leaves, store = _small_tree()
    for second in range(1, SMALL + 1):
        root2 = ref_mth(leaves[:second])
        for first in range(1, second + 1):
            proof = consistency_proof(first, second, store.get_node)
            assert proof == ref_proof(first, leaves[:second])
            if first < second:
                assert len(proof) == consistency_proof_length(first, second)
            verify_consistency(first, second, proof, ref_mth(leaves[:first]), root2)


def test_a_proof_verifies_for_its_own_leaf_and_index_only() -> None:
    # Not for its own size only: the size is bound by the signed checkpoint,
    # and a proof may have the same shape in trees of several sizes.
    leaves, store = _small_tree()
    size = 37
    root = ref_mth(leaves[:size])
    for index in range(size):
        proof = inclusion_proof(index, size, store.get_node)
        for other in range(size):
            if other != index:
                with pytest.raises(ProofError):
                    verify_inclusion(leaves[other], index, size, proof, root)
                with pytest.raises(ProofError):
                    verify_inclusion(leaves[index], other, size, proof, root)


def _single_bit_flips(proof: list[bytes]) -> Iterator[list[bytes]]:
    """The proof with one bit of one of its hashes flipped, for every bit of every hash."""
    for i, element in enumerate(proof):
        for bit in range(8 * len(element)):
            bad = bytearray(element)
            bad[bit // 8] ^= 1 << (bit % 8)
            yield [*proof[:i], bytes(bad), *proof[i + 1 :]]


def test_at_least_a_thousand_mutated_proofs_are_rejected() -> None:
    """Done-when 2: every single-bit flip of every hash of valid proofs fails."""
    leaves, store = _small_tree()
    rejected = 0
    for size, index in [(70, 0), (70, 33), (64, 63), (45, 44)]:
        proof = inclusion_proof(index, size, store.get_node)
        root = ref_mth(leaves[:size])
        for mutated in _single_bit_flips(proof):
            with pytest.raises(ProofError):
                verify_inclusion(leaves[index], index, size, mutated, root)
            rejected += 1
    for first, second in [(1, 70), (6, 70), (32, 70), (45, 64)]:
        proof = consistency_proof(first, second, store.get_node)
        root1, root2 = ref_mth(leaves[:first]), ref_mth(leaves[:second])
        for mutated in _single_bit_flips(proof):
            with pytest.raises(ProofError):
                verify_consistency(first, second, mutated, root1, root2)
            rejected += 1
    assert rejected >= 1000


def test_verifier_refuses_garbage_with_a_reason() -> None:
    leaves, store = _small_tree()
    proof = inclusion_proof(3, 10, store.get_node)
    root = ref_mth(leaves[:10])
    cases: dict[str, tuple[Any, ...]] = {
        "index 10 >= size": (leaves[3], 10, 10, proof, root),
        "negative index": (leaves[3], -1, 10, proof, root),
        "size above u64": (leaves[3], 3, 2**64, proof, root),
        "short leaf": (leaves[3][:31], 3, 10, proof, root),
        "long root": (leaves[3], 3, 10, proof, root + b"\0"),
        "extra hash": (leaves[3], 3, 10, [*proof, root], root),
        "missing hash": (leaves[3], 3, 10, proof[:-1], root),
        "short element": (leaves[3], 3, 10, [proof[0][:-1], *proof[1:]], root),
        "str element": (leaves[3], 3, 10, [proof[0].hex(), *proof[1:]], root),
    }
    for name, args in cases.items():
        with pytest.raises(ProofError) as caught:
            verify_inclusion(*args)
        assert str(caught.value), name

    root1, root2 = ref_mth(leaves[:4]), ref_mth(leaves[:10])
    proof = consistency_proof(4, 10, store.get_node)
    consistency_cases: list[tuple[Any, ...]] = [
        (0, 10, proof, EMPTY_ROOT, root2),  # from the empty tree: meaningless
        (0, 0, [], EMPTY_ROOT, EMPTY_ROOT),
        (10, 4, proof, root2, root1),
        (4, 10, [], root1, root2),
        (4, 10, [*proof, root2], root1, root2),
        (4, 10, proof, root1[:-1], root2),
        (4, 4, proof, root1, root1),
        (4, 4, [], root1, root2),
        (4, 10, proof, root2, root1),
    ]
    for case in consistency_cases:
        with pytest.raises(ProofError):
            verify_consistency(*case)


def test_builders_refuse_impossible_requests() -> None:
    _, store = _small_tree()
    with pytest.raises(ValueError, match="not in a tree"):
        inclusion_proof(5, 5, store.get_node)
    with pytest.raises(ValueError, match="empty tree"):
        consistency_proof(0, 5, store.get_node)
    with pytest.raises(ValueError, match="larger"):
        consistency_proof(6, 5, store.get_node)
    with pytest.raises(ValueError, match="not a subtree"):
        range_node_ids(2, 6)
    assert consistency_proof(5, 5, store.get_node) == []


# --------------------------------------------------------------------------
# At a million leaves: a tree whose leaves are all equal has, at each level,
# one node hash, so any node of any size can be served without building it;
# what is measured is how many nodes a proof reads and how long it takes.

MILLION = 1_000_000
_LEAF = leaf_hash(b"same record")


@cache
def _uniform_level(level: int) -> bytes:
    return _LEAF if level == 0 else node_hash(_uniform_level(level - 1), _uniform_level(level - 1))


class _UniformTree:
    def __init__(self, size: int) -> None:
        self.size = size
        self.reads = 0

    def get_node(self, level: int, index: int) -> bytes:
        assert (index + 1) << level <= self.size, "read a node that is not complete"
        self.reads += 1
        return _uniform_level(level)


def test_proofs_at_a_million_leaves_read_log_n_nodes() -> None:
    tree = _UniformTree(MILLION)
    root = root_from_nodes(MILLION, tree.get_node)
    assert root == ref_uniform_root(MILLION)
    for index in [0, 1, 524_287, 524_288, 999_999, 777_777]:
        proof = _read_log_n_in_5_ms(tree, partial(inclusion_proof, index, MILLION, tree.get_node))
        verify_inclusion(_LEAF, index, MILLION, proof, root)
    for first in [1, 3, 524_288, 999_999, 654_321]:
        proof = _read_log_n_in_5_ms(tree, partial(consistency_proof, first, MILLION, tree.get_node))
        verify_consistency(first, MILLION, proof, ref_uniform_root(first), root)


def _read_log_n_in_5_ms(tree: _UniformTree, build: Callable[[], list[bytes]]) -> list[bytes]:
    """The proof ``build`` makes, having checked that it reads at most 2 log n nodes
    and takes under 5 ms."""
    tree.reads = 0
    proof = build()
    assert tree.reads <= 2 * MILLION.bit_length()  # 2 * 20
    # Target of done-when 6 (5 ms), with in-memory reads; best of 5 so a
    # busy test machine does not decide.
    timings = timeit.repeat(build, number=1, repeat=5)
    assert min(timings) < 0.005
    return proof


def test_plans_name_each_node_once_and_only_complete_nodes() -> None:
    for size in [MILLION, 2**20, 2**20 + 1, 3, 1]:
        for index in {0, size // 2, size - 1}:
            ids = [node for entry in inclusion_plan(index, size) for node in entry]
            assert len(ids) == len(set(ids))
            assert all((n.index + 1) << n.level <= size for n in ids)
    ids = [node for entry in consistency_plan(999_999, MILLION) for node in entry]
    assert len(ids) == len(set(ids))
    assert NodeId(0, 999_998) in ids


def ref_uniform_root(size: int) -> bytes:
    """The root of ``size`` equal leaves, by the RFC's recursion on sizes alone."""
    if size & (size - 1) == 0:
        return _uniform_level(size.bit_length() - 1)
    k = 1 << ((size - 1).bit_length() - 1)
    return node_hash(ref_uniform_root(k), ref_uniform_root(size - k))
