"""Proofs and roots from the stored nodes: O(log n) reads, in one query, never a
leaf rehashed.

``merkle``'s plans say which perfect subtrees a proof needs; the store fetches
exactly those and ``merkle.proof_from_plan`` folds them. Every node below the
head exists (the follower writes each one the moment it is complete), so any
proof up to the ledger's size can be answered.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from infrastructure.ledger import merkle
from infrastructure.ledger.db import (
    Head,
    LedgerTables,
    LedgerTx,
    RawRecord,
    StoredCheckpoint,
    StoredLeaf,
)
from infrastructure.ledger.follower import LedgerCorrupt
from infrastructure.ledger.merkle import EMPTY_ROOT, NodeId


@dataclass(frozen=True, slots=True)
class InclusionProof:
    index: int
    size: int
    root: bytes
    proof: list[bytes]
    leaf_hash: bytes
    position: int  # the notification id of the record the leaf is


@dataclass(frozen=True, slots=True)
class ConsistencyProof:
    first: int
    second: int
    first_root: bytes
    second_root: bytes
    proof: list[bytes] = field(default_factory=list)


class FetchedNodes:
    """The nodes fetched for one answer, in one query.

    A missing node means a tree larger than the ledger (``ValueError``) or, below
    the head, a corrupt ledger. The head is only read then: the common case costs
    one round trip.
    """

    def __init__(self, tx: LedgerTx, wanted: Iterable[NodeId], size: int) -> None:
        ids = sorted(set(wanted))
        self._found = tx.nodes(ids)
        if len(self._found) < len(ids):
            ledgered = tx.head().size
            if size > ledgered:
                raise ValueError(f"the ledger holds {ledgered} leaves, not {size}")

    def get(self, level: int, index: int) -> bytes:
        try:
            return self._found[NodeId(level, index)]
        except KeyError:
            raise LedgerCorrupt(f"the ledger lacks node (level {level}, index {index})") from None

    def root(self, size: int) -> bytes:
        return merkle.root_from_nodes(size, self.get) if size else EMPTY_ROOT


def _ids(plan: merkle.ProofPlan) -> list[NodeId]:
    return [node for entry in plan for node in entry]


class LedgerStore:
    """Read side of the ledger: heads, roots, proofs, leaves and checkpoints."""

    def __init__(self, tables: LedgerTables) -> None:
        self._tables = tables

    def head(self) -> Head:
        with self._tables.read() as tx:
            return tx.head()

    def root(self, size: int) -> bytes:
        with self._tables.read() as tx:
            return FetchedNodes(tx, merkle.root_plan(size), size).root(size)

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        """The audit path alone: one query for its O(log n) nodes."""
        plan = merkle.inclusion_plan(index, size)
        with self._tables.read() as tx:
            nodes = FetchedNodes(tx, _ids(plan), size)
        return merkle.proof_from_plan(plan, nodes.get)

    def consistency_proof(self, first: int, second: int) -> list[bytes]:
        """The consistency proof alone: one query for its O(log n) nodes."""
        plan = merkle.consistency_plan(first, second)
        with self._tables.read() as tx:
            nodes = FetchedNodes(tx, _ids(plan), second)
        return merkle.proof_from_plan(plan, nodes.get)

    def inclusion(self, index: int, size: int) -> InclusionProof:
        """Leaf ``index``'s audit path in the tree of ``size``, the root, and the leaf."""
        plan = merkle.inclusion_plan(index, size)
        with self._tables.read() as tx:
            wanted = [*_ids(plan), *merkle.root_plan(size), NodeId(0, index)]
            nodes = FetchedNodes(tx, wanted, size)
            position = tx.position(index)
        if position is None:
            raise LedgerCorrupt(f"the ledger lacks the position of leaf {index}")
        return InclusionProof(
            index=index,
            size=size,
            root=nodes.root(size),
            proof=merkle.proof_from_plan(plan, nodes.get),
            leaf_hash=nodes.get(0, index),
            position=position,
        )

    def consistency(self, first: int, second: int) -> ConsistencyProof:
        """The proof that the tree of ``first`` leaves is a prefix of the tree of ``second``."""
        plan = merkle.consistency_plan(first, second)
        with self._tables.read() as tx:
            wanted = [*_ids(plan), *merkle.root_plan(first), *merkle.root_plan(second)]
            nodes = FetchedNodes(tx, wanted, second)
        return ConsistencyProof(
            first=first,
            second=second,
            first_root=nodes.root(first),
            second_root=nodes.root(second),
            proof=merkle.proof_from_plan(plan, nodes.get),
        )

    def leaves(self, start: int, end: int) -> list[StoredLeaf]:
        with self._tables.read() as tx:
            return tx.leaves(start, end)

    def record(self, position: int) -> RawRecord | None:
        """The stored record at a position, as the events table holds it now."""
        with self._tables.read() as tx:
            rows = tx.records(position - 1, position, 1)
        return rows[0] if rows else None

    def checkpoints(self) -> list[StoredCheckpoint]:
        with self._tables.read() as tx:
            return tx.checkpoints()

    def latest_checkpoint(self) -> StoredCheckpoint | None:
        with self._tables.read() as tx:
            return tx.latest_checkpoint()
