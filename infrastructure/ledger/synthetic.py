"""A ledger of synthetic leaves, for measuring proofs at scale (not for real data).

``fill_synthetic`` appends ``count`` made-up leaf hashes to the ledger's tables
through a ``CompactRange``, storing every node it completes, in large batches:
a tree of a million leaves in seconds, with no event behind any leaf. Use it on
a scratch database only: ``verify`` would rightly find no record for them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from infrastructure.ledger.compact import CompactRange, Node
from infrastructure.ledger.db import Head, LedgerTables
from infrastructure.ledger.follower import frontier_at


def synthetic_leaf_hash(index: int) -> bytes:
    return hashlib.sha256(b"rete synthetic leaf %d" % index).digest()


def fill_synthetic(
    tables: LedgerTables,
    count: int,
    batch: int = 50_000,
    progress: Callable[[int], None] | None = None,
) -> bytes:
    """Append ``count`` synthetic leaves (positions follow the head's); returns the root."""
    done = 0
    while done < count:
        with tables.write() as tx:
            head = tx.head()
            frontier: CompactRange = frontier_at(tx, head.size)
            nodes: list[Node] = []
            leaves: list[tuple[int, int]] = []
            step = min(batch, count - done)
            for k in range(step):
                leaves.append((frontier.size, head.last_position + k + 1))
                nodes.extend(frontier.append(synthetic_leaf_hash(frontier.size)))
            tx.add_nodes(nodes, leaves)
            tx.set_head(Head(frontier.size, head.last_position + step))
        done += step
        if progress:
            progress(done)
    return frontier.root()
