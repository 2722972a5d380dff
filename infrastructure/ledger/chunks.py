"""The tree over a stream of leaves, one aligned chunk at a time, for verification.

Appending a million leaves one by one to a ``CompactRange`` costs an object per
node; verification instead hashes each aligned chunk of ``CHUNK`` leaves level
by level, and appends only the chunk's root to a ``CompactRange`` whose leaves
are chunk roots. That upper range merges exactly as the full tree does above
level ``CHUNK_LEVEL``, so the root at any size is the fold of the upper
frontier and of the perfect subtrees of the current chunk
(``merkle.range_node_ids``), which is how RFC 6962 splits a tree.
"""

from __future__ import annotations

import hashlib
from typing import Final

from infrastructure.ledger.compact import CompactRange, Node
from infrastructure.ledger.merkle import fold_right_edge, range_node_ids

CHUNK_LEVEL: Final = 12
CHUNK: Final = 1 << CHUNK_LEVEL


def levels_of(leaf_hashes: list[bytes]) -> list[list[bytes]]:
    """Every perfect subtree root within a chunk, level by level: level 0 is the
    leaves, level l holds the roots of the complete runs of 2**l leaves."""
    levels = [leaf_hashes]
    current = leaf_hashes
    sha = hashlib.sha256
    while len(current) > 1:
        # ``merkle.node_hash`` inlined: one call per node is a third of verification.
        # zip of one iterator with itself pairs (0, 1), (2, 3)... and drops an odd last.
        pairs = iter(current)
        current = [
            sha(b"\x01" + left + right).digest() for left, right in zip(pairs, pairs, strict=False)
        ]
        levels.append(current)
    return levels


class ChunkedTree:
    """The tree over leaves fed one chunk at a time (the last one may be partial)."""

    def __init__(self) -> None:
        self.upper = CompactRange()  # its leaves are chunk roots
        self.size = 0  # leaves in the complete chunks appended to ``upper``
        self.levels: list[list[bytes]] = [[]]  # the current chunk

    def copy(self) -> ChunkedTree:
        twin = ChunkedTree()
        twin.upper = CompactRange(self.upper.size, self.upper.hashes)
        twin.size = self.size
        twin.levels = [list(level) for level in self.levels]
        return twin

    @property
    def leaves(self) -> int:
        return self.size + len(self.levels[0])

    def load(self, leaf_hashes: list[bytes]) -> list[list[bytes]]:
        """Take the next chunk's leaves, once the one before was sealed; returns
        the chunk's levels."""
        return self.load_levels(levels_of(leaf_hashes))

    def load_levels(self, levels: list[list[bytes]]) -> list[list[bytes]]:
        """``load`` of leaves whose levels (``levels_of``) were computed elsewhere."""
        if self.levels[0]:
            raise ValueError("seal the current chunk first (only the last may be partial)")
        if len(levels[0]) > CHUNK:
            raise ValueError(f"a chunk holds at most {CHUNK} leaves")
        self.levels = levels
        return self.levels

    def seal(self) -> list[Node]:
        """Append the current chunk's root when the chunk is complete; returns the
        upper nodes that completed, at their level in the full tree."""
        if len(self.levels[0]) != CHUNK:
            return []
        root = self.levels[CHUNK_LEVEL][0]
        self.levels = [[]]
        return self.append_chunk(root)

    def append_chunk(self, root: bytes) -> list[Node]:
        """Append a whole chunk known by its root alone (its leaves were checked
        elsewhere); returns the upper nodes that completed, as ``seal`` does."""
        if self.levels[0]:
            raise ValueError("seal the current chunk first (only the last may be partial)")
        completed = self.upper.append(root)
        self.size += CHUNK
        return [Node(n.level + CHUNK_LEVEL, n.index, n.hash) for n in completed]

    def root(self, size: int) -> bytes | None:
        """The root of the first ``size`` leaves, when they lie in the current chunk
        (``None`` when the leaves fed do not reach ``size``)."""
        if not self.size < size <= self.leaves:
            return None
        inner = [
            self.levels[n.level][n.index - (self.size >> n.level)]
            for n in range_node_ids(self.size, size)
        ]
        return fold_right_edge([*self.upper.hashes, *inner])
