"""Verification's tree, fed a chunk of leaves at a time: every level of a chunk is
the true perfect subtrees, its root at any size is the RFC 6962 root, and the
upper nodes it seals are the frontier's."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from ledger_support import leaves_of, ref_mth
from support.hypothesis_profiles import examples

from infrastructure.ledger.chunks import CHUNK, CHUNK_LEVEL, ChunkedTree, levels_of
from infrastructure.ledger.compact import CompactRange


@settings(max_examples=examples(30), deadline=None)
@given(count=st.integers(min_value=1, max_value=300), salt=st.binary(max_size=8))
def test_each_level_holds_the_roots_of_the_complete_runs(count: int, salt: bytes) -> None:
    leaves = leaves_of(count, salt)
    levels = levels_of(leaves)
    for level, hashes in enumerate(levels):
        width = 1 << level
        assert hashes == [
            ref_mth(leaves[i : i + width]) for i in range(0, count - width + 1, width)
        ]
    assert len(levels[-1]) == 1


def test_roots_and_sealed_nodes_over_three_chunks_match_the_reference() -> None:
    leaves = leaves_of(2 * CHUNK + 5, b"chunked")
    tree, frontier, sealed = ChunkedTree(), CompactRange(), []
    for start in range(0, len(leaves), CHUNK):
        chunk = leaves[start : start + CHUNK]
        tree.load(chunk)
        for size in {start + 1, start + len(chunk) // 2 + 1, start + len(chunk)}:
            assert tree.root(size) == ref_mth(leaves[:size])
        sealed += tree.seal()
    expected = [n for n in frontier.extend(leaves) if n.level >= CHUNK_LEVEL]
    assert sealed == expected
