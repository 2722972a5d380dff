"""The follower: appends every new stored record of the log to the Merkle tree.

It reads records in notification order (inside the batch's transaction, on its
connection: the events table as the ledger's tables read it), turns each into a leaf, appends it to the frontier (``CompactRange``) and stores, in ONE
transaction per batch, the perfect subtrees the batch completed, the leaves'
positions and the new head. A crash (even SIGKILL) rolls back the batch in
flight; the next call resumes exactly after the last committed head, so no
record is skipped or counted twice.

Order: on SQLite one writer at a time makes rowid order commit order; on
PostgreSQL the event store takes an EXCLUSIVE lock on its table for every
insert, so notification ids are issued and committed in the same order (gaps
are possible: a leaf records the id it had). Either way a record that is not
yet visible can never get a smaller id than one already ledgered.

Versions: the follower also keeps the highest version of each stream it ledgered
(``rete_ledger_streams``). A record whose stream already had that version or a
later one hashed can only be a version stored again after its record was deleted:
it is ledgered (the log holds it) and reported (``on_tamper``,
``log-version-reused``) once its batch is committed.

Concurrency: the batch transaction is serialised with every other ledger writer
(SQLite ``BEGIN IMMEDIATE``, PostgreSQL an advisory lock), and the head is read
inside it, so two followers, in one process or many, never append the same
record twice.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Final
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder

from infrastructure.ledger.alarms import VERSION_REUSED
from infrastructure.ledger.compact import CompactRange, Node
from infrastructure.ledger.db import Head, LedgerTables, LedgerTx
from infrastructure.ledger.merkle import leaf_hash, root_plan
from infrastructure.ledger.records import LeafHasher

# Records per transaction: big enough to catch up a backlog quickly, small
# enough that the event store's writers (SQLite: one write lock) barely wait.
PAGE: Final = 2000
_END: Final = 2**63 - 1  # no position is beyond it


class LedgerCorrupt(Exception):
    """The ledger's own tables are missing nodes they must hold."""


def frontier_at(tx: LedgerTx, size: int) -> CompactRange:
    """The frontier of the stored tree at ``size``: popcount(size) nodes, one query."""
    wanted = root_plan(size)
    found = tx.nodes(wanted)
    missing = [node for node in wanted if node not in found]
    if missing:
        raise LedgerCorrupt(
            f"the ledger lacks node (level {missing[0].level}, index {missing[0].index}) "
            f"of its own tree of size {size}"
        )
    return CompactRange(size, [found[node] for node in wanted])


class LedgerFollower:
    """Thread-safe; any number of followers may run against one database."""

    def __init__(
        self,
        tables: LedgerTables,
        recorder: ApplicationRecorder,
        page: int = PAGE,
        on_tamper: Callable[[str, str], None] | None = None,
    ):
        self._tables = tables
        self._recorder = recorder
        self._page = page
        # Told (kind, detail) of what the follower finds tampered, after its commit.
        self._on_tamper = on_tamper or (lambda kind, detail: None)
        self._lock = threading.Lock()
        # The frontier after our last commit: reused while nobody else moved the head.
        self._cached: tuple[Head, CompactRange] | None = None
        # The last position we know to be ledgered (by us or by another process).
        self._seen: int | None = None

    def catch_up(self, limit: int | None = None) -> int:
        """Ledger every record written since the last call; returns how many.

        Cheap when there is nothing new: one indexed query, no lock. ``limit``
        bounds the work of one call (the rest waits for the next).
        """
        with self._lock:
            if not self._anything_new():
                return 0
            added = 0
            while limit is None or added < limit:
                step = self._page if limit is None else min(self._page, limit - added)
                count = self._append_batch(step)
                added += count
                if count < step:
                    break
            return added

    def _anything_new(self) -> bool:
        if self._seen is None:
            with self._tables.read() as tx:
                self._seen = tx.head().last_position
        # Another process may have ledgered past what we saw: then the locked step
        # below finds nothing after the real head, and we remember that head.
        return bool(self._recorder.select_notifications(start=self._seen + 1, limit=1))

    def _append_batch(self, limit: int) -> int:
        with self._tables.write() as tx:
            head = tx.head()
            # On this transaction's connection: a thread never holds two of the pool's.
            batch = tx.records(head.last_position, _END, limit)
            if not batch:
                self._seen = head.last_position
                return 0
            frontier = self._frontier(tx, head)
            nodes: list[Node] = []
            leaves: list[tuple[int, int]] = []
            hasher = LeafHasher()
            streams = [hasher.stream_id(record.stream_id).hex for record in batch]
            hashed = tx.hashed_versions(streams)
            raised: dict[str, int] = {}
            reused: list[str] = []
            for record, stream in zip(batch, streams, strict=True):
                leaves.append((frontier.size, record.position))
                nodes.extend(frontier.append(leaf_hash(hasher.leaf(record))))
                if record.version <= hashed.get(stream, 0):
                    reused.append(
                        f"stream {UUID(hex=stream)} version {record.version} stored again at "
                        f"position {record.position}, after the ledger had hashed it"
                    )
                else:
                    hashed[stream] = raised[stream] = record.version
            tx.add_nodes(nodes, leaves)
            tx.set_hashed_versions(list(raised.items()))
            new_head = Head(frontier.size, batch[-1].position)
            tx.set_head(new_head)
        # Only once committed does the frontier become the cache.
        self._cached = (new_head, frontier)
        self._seen = new_head.last_position
        for detail in reused:
            self._on_tamper(VERSION_REUSED, detail)
        return len(batch)

    def _frontier(self, tx: LedgerTx, head: Head) -> CompactRange:
        if self._cached is not None and self._cached[0] == head:
            cached = self._cached[1]
            return CompactRange(cached.size, cached.hashes)  # a copy: a rollback keeps the cache
        return frontier_at(tx, head.size)
