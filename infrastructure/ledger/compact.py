"""A compact range (the "frontier") for appending leaves in O(log n) memory.

The frontier of a tree of size n is the list of perfect subtree roots that
cover leaves [0, n), one per 1 bit of n, largest (leftmost) first. Appending a
leaf pushes it and merges equal-sized neighbours, like adding 1 to a binary
counter; every merge completes a perfect subtree whose hash never changes
again. ``append`` reports those nodes so that a store can persist them, which
is what lets ``merkle`` answer proofs from stored nodes without rehashing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from infrastructure.ledger.merkle import (
    EMPTY_ROOT,
    HASH_SIZE,
    MAX_SIZE,
    GetNode,
    NodeId,
    fold_right_edge,
    node_hash,
    root_plan,
)


@dataclass(frozen=True, slots=True)
class Node:
    """A completed perfect subtree: 2**level leaves from leaf index * 2**level."""

    level: int
    index: int
    hash: bytes

    @property
    def id(self) -> NodeId:
        return NodeId(self.level, self.index)


class CompactRange:
    """The frontier of an append-only RFC 6962 tree over leaves [0, size)."""

    __slots__ = ("_hashes", "_size")

    def __init__(self, size: int = 0, hashes: Sequence[bytes] = ()) -> None:
        """A frontier at ``size`` from its perfect subtree roots, left to right
        (as given by ``hashes``, or read back with ``from_nodes``)."""
        if not 0 <= size <= MAX_SIZE:
            raise ValueError(f"size must be between 0 and 2**64 - 1, got {size}")
        if len(hashes) != size.bit_count():
            raise ValueError(f"a tree of size {size} has {size.bit_count()} frontier hashes")
        if any(len(h) != HASH_SIZE for h in hashes):
            raise ValueError(f"frontier hashes must be {HASH_SIZE} bytes")
        self._size = size
        self._hashes = [bytes(h) for h in hashes]

    @classmethod
    def from_nodes(cls, size: int, get_node: GetNode) -> CompactRange:
        """Restores the frontier at ``size`` from stored nodes (popcount(size) reads),
        e.g. after a restart."""
        return cls(size, [get_node(node.level, node.index) for node in root_plan(size)])

    @property
    def size(self) -> int:
        return self._size

    @property
    def hashes(self) -> tuple[bytes, ...]:
        """The frontier's perfect subtree roots, left (largest) to right."""
        return tuple(self._hashes)

    def nodes(self) -> list[Node]:
        """The frontier as nodes, left to right."""
        ids = root_plan(self._size)
        return [Node(i.level, i.index, h) for i, h in zip(ids, self._hashes, strict=True)]

    def root(self) -> bytes:
        """The RFC 6962 root of the tree of the current size."""
        if not self._hashes:
            return EMPTY_ROOT
        return fold_right_edge(self._hashes)

    def append(self, leaf_hash: bytes) -> list[Node]:
        """Appends one leaf hash; returns the nodes it completed, bottom up: the
        leaf itself (level 0), then one parent per trailing 1 bit of its index."""
        if len(leaf_hash) != HASH_SIZE:
            raise ValueError(f"leaf hash must be {HASH_SIZE} bytes")
        if self._size == MAX_SIZE:
            raise ValueError("the tree is full")
        index = self._size
        current = bytes(leaf_hash)
        completed = [Node(0, index, current)]
        level = 0
        while index & 1:
            # The left sibling of equal size is the last frontier hash.
            current = node_hash(self._hashes.pop(), current)
            level, index = level + 1, index >> 1
            completed.append(Node(level, index, current))
        self._hashes.append(current)
        self._size += 1
        return completed

    def extend(self, leaf_hashes: Iterable[bytes]) -> list[Node]:
        """Appends several leaf hashes; returns every node they completed, in order."""
        completed: list[Node] = []
        for leaf in leaf_hashes:
            completed.extend(self.append(leaf))
        return completed

    def __repr__(self) -> str:
        return f"CompactRange(size={self._size}, root={self.root().hex()})"
