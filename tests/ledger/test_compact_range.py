"""The frontier: appended one leaf at a time, its root is the MTH of all leaves;
the nodes it reports are the perfect subtrees, each exactly once, each with its
true hash; and proofs read from those nodes verify."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ledger_support import NodeStore, leaves_of, ref_mth
from support.hypothesis_profiles import examples

from infrastructure.ledger.compact import CompactRange, Node
from infrastructure.ledger.merkle import (
    EMPTY_ROOT,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    mth,
    root_from_nodes,
)
from infrastructure.ledger.proofs import verify_consistency, verify_inclusion

MAX_LEAVES = 300
sizes = st.integers(min_value=1, max_value=MAX_LEAVES)
salts = st.binary(max_size=8)


@settings(max_examples=examples(60), deadline=None)
@given(size=sizes, salt=salts)
def test_frontier_root_is_the_mth_of_all_leaves_at_every_size(size: int, salt: bytes) -> None:
    leaves = leaves_of(size, salt)
    frontier = CompactRange()
    assert frontier.root() == EMPTY_ROOT
    for count, leaf in enumerate(leaves, start=1):
        frontier.append(leaf)
        assert frontier.size == count
        assert frontier.root() == mth(leaves[:count])
    assert len(frontier.hashes) == size.bit_count()  # O(log n) memory


@settings(max_examples=examples(60), deadline=None)
@given(size=sizes, salt=salts)
def test_reported_nodes_are_every_perfect_subtree_once_with_its_mth(size: int, salt: bytes) -> None:
    leaves = leaves_of(size, salt)
    frontier = CompactRange()
    reported: list[Node] = []
    for index, leaf in enumerate(leaves):
        completed = frontier.append(leaf)
        assert completed[0] == Node(0, index, leaf)
        assert [n.level for n in completed] == list(range(len(completed)))
        reported.extend(completed)

    expected_ids = {
        (level, index)
        for level in range(size.bit_length())
        for index in range(size >> level)  # the perfect subtrees inside [0, size)
    }
    assert sorted((n.level, n.index) for n in reported) == sorted(expected_ids)
    for node in reported:
        start = node.index << node.level
        assert node.hash == ref_mth(leaves[start : start + (1 << node.level)])


@settings(max_examples=examples(150), deadline=None)
@given(data=st.data(), total=sizes, salt=salts)
def test_proofs_from_reported_nodes_verify(data: st.DataObject, total: int, salt: bytes) -> None:
    """Proofs for any earlier size too: nodes never change once complete, so the
    store of a larger tree serves every smaller one."""
    leaves = leaves_of(total, salt)
    store = NodeStore.of_leaves(leaves)
    size = data.draw(st.integers(min_value=1, max_value=total), label="size")
    root = mth(leaves[:size])
    assert root_from_nodes(size, store.get_node) == root

    index = data.draw(st.integers(min_value=0, max_value=size - 1), label="index")
    proof = inclusion_proof(index, size, store.get_node)
    verify_inclusion(leaves[index], index, size, proof, root)

    first = data.draw(st.integers(min_value=1, max_value=size), label="first")
    proof = consistency_proof(first, size, store.get_node)
    verify_consistency(first, size, proof, mth(leaves[:first]), root)


@settings(max_examples=examples(40), deadline=None)
@given(size=st.integers(min_value=0, max_value=MAX_LEAVES), more=st.integers(0, 40))
def test_a_frontier_restored_from_stored_nodes_carries_on(size: int, more: int) -> None:
    """After a restart the frontier is read back from the store, not rebuilt."""
    leaves = leaves_of(size + more)
    store = NodeStore.of_leaves(leaves[:size])
    store.reads = 0
    restored = CompactRange.from_nodes(size, store.get_node)
    assert store.reads == size.bit_count()
    assert restored.hashes == store.frontier.hashes
    assert restored.nodes() == store.frontier.nodes()
    restored.extend(leaves[size:])
    assert restored.root() == mth(leaves)


def test_frontier_refuses_bad_input() -> None:
    with pytest.raises(ValueError, match="frontier hashes"):
        CompactRange(3, [leaf_hash(b"a")])
    with pytest.raises(ValueError, match="32 bytes"):
        CompactRange(1, [b"short"])
    with pytest.raises(ValueError, match="32 bytes"):
        CompactRange().append(b"short")
    with pytest.raises(ValueError, match="2\\*\\*64"):
        CompactRange(-1)
    assert "size=0" in repr(CompactRange())
