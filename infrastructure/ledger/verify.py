"""Verifying a log against its signed checkpoints, streaming, and naming the first
bad leaf.

The verdict rests on the checkpoints alone: every record is turned into its
leaf again, and the root of the first ``size`` leaves must be each signed
checkpoint's root. The ledger's own stored leaves (live database, or carried in
an export) only serve to *locate* a divergence: the first index where a
recomputed leaf differs from the stored one is the first bad leaf, and the
first checkpoint covering it says which side was altered (the records, the
ledger, or both). Memory stays bounded: one chunk of records and the frontier.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from infrastructure.ledger.chunks import CHUNK, ChunkedTree
from infrastructure.ledger.compact import Node
from infrastructure.ledger.findings import (
    CleanChunk,
    NodeLookup,
    Page,
    TrustedCheckpoint,
    VerificationFailed,
    describe,
    first_difference,
)
from infrastructure.ledger.merkle import NodeId, fold_right_edge
from infrastructure.ledger.records import LeafHasher

__all__ = ["LogVerifier", "NodeLookup", "Page", "TrustedCheckpoint", "VerificationFailed"]


@dataclass(frozen=True, slots=True)
class _Mismatch:
    index: int
    detail: str


class LogVerifier:
    """Feed it the log page by page (``feed``), or whole clean chunks (``feed_clean``)
    until the first page that is not one, then ``finish``; either raises
    ``VerificationFailed`` at the first divergence."""

    def __init__(
        self, checkpoints: Sequence[TrustedCheckpoint], stored_nodes: NodeLookup | None = None
    ) -> None:
        self._pending = sorted(checkpoints, key=lambda c: c.size)
        self._verified: TrustedCheckpoint | None = None
        self._nodes = stored_nodes
        self._hasher = LeafHasher()
        self._tree = ChunkedTree()  # recomputed from the records
        self._stored: ChunkedTree | None = None  # from the ledger's leaves, once they differ
        self._mismatch: _Mismatch | None = None

    @property
    def records(self) -> int:
        return self._tree.leaves

    def feed(self, page: Page) -> None:
        hashes = self._hasher.hashes(page.records)
        stored = None if page.ledger is None else [h for _, h in page.ledger]
        if self._mismatch is None and page.ledger is not None and stored != hashes:
            j = first_difference(hashes, stored or [])
            self._mismatch_at(page, j)
        elif self._mismatch is None and page.ledger is not None:
            # Same leaves: the positions the ledger keeps beside them must agree too.
            positions = [r.position for r in page.records]
            j = first_difference(positions, [p for p, _ in page.ledger])
            if j < len(positions):
                self._mismatch_at(page, j)
        _feed(self._tree, page.start, hashes)
        if self._stored is not None and stored is not None:
            _feed(self._stored, page.start, stored)
        if self._nodes is not None and self._mismatch is None and hashes:
            self._check_chunk_nodes(page.start)
        reached = max(self._tree.leaves, self._stored.leaves if self._stored else 0)
        while self._pending and self._pending[0].size <= reached:
            self._check(self._pending.pop(0))
        self._seal()

    def feed_clean(self, chunk: CleanChunk) -> None:
        """A whole chunk found exactly as stored, nodes included: as ``feed`` of its
        page would, it checks the checkpoints it reaches, then the stored nodes
        above it, in that order; only its root joins the tree."""
        if self._mismatch is not None:
            raise ValueError("a clean chunk after a divergence")  # pages only, from there
        if self._tree.leaves != chunk.start or self._tree.levels[0]:
            raise ValueError(f"chunk at {chunk.start} does not follow leaf {self._tree.leaves}")
        if chunk.levels is not None:  # the partial last chunk: kept whole, as feed keeps it
            self._tree.load_levels(chunk.levels)
            while self._pending and self._pending[0].size <= self._tree.leaves:
                self._check(self._pending.pop(0))
            return
        end = chunk.start + CHUNK
        while self._pending and self._pending[0].size <= end:
            checkpoint = self._pending.pop(0)
            inner = [chunk.root] if checkpoint.size == end else chunk.inner[checkpoint.size]
            if fold_right_edge([*self._tree.upper.hashes, *inner]) != checkpoint.root:
                self._unlocated(checkpoint, ended=False)
            self._verified = checkpoint
        completed = self._tree.append_chunk(chunk.root)
        if self._nodes is not None and completed:
            self._compare(
                completed, self._nodes([(n.level, n.index, n.index + 1) for n in completed])
            )

    def _mismatch_at(self, page: Page, j: int) -> None:
        record = page.records[j] if j < len(page.records) else None
        leaf = page.ledger[j] if page.ledger is not None and j < len(page.ledger) else None
        self._mismatch = _Mismatch(page.start + j, describe(record, leaf))
        self._stored = self._tree.copy()  # the ledger's tree agreed up to this page

    def finish(self) -> TrustedCheckpoint | None:
        """Checks the checkpoints the log did not reach; returns the latest verified."""
        while self._pending:
            self._check(self._pending.pop(0))
        if self._mismatch is not None:
            raise VerificationFailed(
                self._mismatch.index,
                f"{self._mismatch.detail}: the record differs from the ledger's leaf "
                "(no checkpoint covers it yet)",
            )
        return self._verified

    def _check(self, checkpoint: TrustedCheckpoint) -> None:
        ours = self._tree.root(checkpoint.size) if self._tree.leaves >= checkpoint.size else None
        bad = self._mismatch
        if bad is None or bad.index >= checkpoint.size:
            if ours != checkpoint.root:
                self._unlocated(checkpoint, ended=ours is None)
            self._verified = checkpoint
            return
        assert self._stored is not None
        theirs = (
            self._stored.root(checkpoint.size) if self._stored.leaves >= checkpoint.size else None
        )
        label = checkpoint.label
        if ours == checkpoint.root:
            reason = (
                f"the ledger's stored leaf differs from the record, which {label} vouches "
                "for: the ledger tables were altered"
            )
        elif theirs == checkpoint.root:
            reason = f"{bad.detail}: the stored record differs from the one {label} committed to"
        else:
            reason = f"{bad.detail}; neither the records nor the ledger match {label}"
        raise VerificationFailed(bad.index, reason)

    def _unlocated(self, checkpoint: TrustedCheckpoint, *, ended: bool) -> None:
        start = self._verified.size if self._verified else 0
        if ended:
            raise VerificationFailed(
                self._tree.leaves,
                f"the log ends after {self._tree.leaves} records, but {checkpoint.label} "
                f"commits to {checkpoint.size}: records are missing",
            )
        raise VerificationFailed(
            start,
            f"the records {start}..{checkpoint.size - 1} do not reproduce the root of "
            f"{checkpoint.label}, and the ledger's leaves agree with them: this part of the "
            "history was rewritten, ledger included; the first bad leaf is in this range",
        )

    def _check_chunk_nodes(self, start: int) -> None:
        assert self._nodes is not None
        levels = self._tree.levels
        ranges = [
            (level, start >> level, (start >> level) + len(levels[level]))
            for level in range(1, len(levels))
            if levels[level]
        ]
        ours = [h for level in levels[1:] for h in level]
        stored = self._nodes(ranges) if ranges else []
        if [h for _, _, h in stored] != ours:  # one comparison in C for the usual case
            self._compare(
                [
                    Node(level, (start >> level) + j, h)
                    for level in range(1, len(levels))
                    for j, h in enumerate(levels[level])
                ],
                stored,
            )

    def _seal(self) -> None:
        completed = self._tree.seal()
        if self._stored is not None:
            self._stored.seal()
        if self._nodes is not None and self._mismatch is None and completed:
            self._compare(
                completed, self._nodes([(n.level, n.index, n.index + 1) for n in completed])
            )

    def _compare(self, ours: Sequence[Node], rows: list[tuple[int, int, bytes]]) -> None:
        stored = {NodeId(level, index): h for level, index, h in rows}
        for node in ours:
            if stored.get(node.id) != node.hash:
                first = node.index << node.level
                raise VerificationFailed(
                    first,
                    f"the ledger's node (level {node.level}, index {node.index}) over leaves "
                    f"{first}..{first + (1 << node.level) - 1} is missing or differs from the "
                    "one recomputed from the records: the ledger tables were altered",
                )


def _feed(tree: ChunkedTree, start: int, hashes: list[bytes]) -> None:
    """Load a page into a tree; a tree whose stream ended (short page) takes no more."""
    if not hashes:
        return
    if tree.levels[0] and len(tree.levels[0]) < CHUNK:
        raise ValueError("a page followed a short one")
    if tree.leaves != start:
        raise ValueError(f"page at {start} does not follow leaf {tree.leaves}")
    tree.load(hashes)
