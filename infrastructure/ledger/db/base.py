"""The ledger's tables (``schema``) on the process's database (``infrastructure.db``),
and the statements on them."""

from __future__ import annotations

import functools
from abc import ABC, abstractmethod
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from infrastructure.db import Database, Dialect, EventsTable, Tx
from infrastructure.ledger.compact import Node
from infrastructure.ledger.db.schema import (
    CHECKPOINTS,
    DDL,
    HEAD,
    LEAVES,
    NODES,
    STREAMS,
    Head,
    RawRecord,
    RecordRow,
    StoredCheckpoint,
    StoredLeaf,
)
from infrastructure.ledger.merkle import NodeId


@dataclass(frozen=True, slots=True)
class TablesAddress:
    """Where a ``LedgerTables`` was opened from, so that another process (a
    verification worker) can open the same tables."""

    database_url: str
    events_table: str


@dataclass(frozen=True, slots=True)
class StoredChunk:
    """What the ledger holds for a chunk of leaves, read in one query for
    verification's check of a whole chunk (``LedgerTx.stored_chunk``)."""

    nodes: bytes | None  # every node's hash, level 0 up, each level in index order
    positions: str | None  # its leaves' positions, in index order, as "p0,p1,..."


class LedgerTx(ABC):
    """The ledger's statements, run on one connection (and, for writes, one
    transaction); a subclass per backend for the few written differently."""

    def __init__(self, tx: Tx, events: EventsTable) -> None:
        self._tx = tx
        self._events = events
        q = tx.dialect.qualify
        self._n = {"nodes": q(NODES), "leaves": q(LEAVES), "head": q(HEAD)}
        self._n["checkpoints"] = q(CHECKPOINTS)
        self._n["streams"] = q(STREAMS)

    @property
    def dialect(self) -> Dialect:
        return self._tx.dialect

    def _query(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self._tx.query(statement, params, prepare=True)

    def _command(self, statement: str, params: Sequence[Any] = ()) -> None:
        self._tx.command(statement, params)

    def _many(self, statement: str, rows: Iterable[Sequence[Any]]) -> None:
        self._tx.many(statement, rows)

    @abstractmethod
    def nodes(self, ids: Sequence[NodeId]) -> dict[NodeId, bytes]:
        """The stored hashes of these nodes (missing ones are absent), in one query."""

    def record_rows(self, after: int, stop: int, limit: int) -> list[RecordRow]:
        """Stored records with ``after < position <= stop``, in log order, as rows
        (the stream id as the events table holds it on SQLite)."""
        # Binary results on PostgreSQL: bytea arrives as bytes without decoding hex,
        # and the id as text, as SQLite has it (hashing a str is C, a UUID's is Python).
        return self._tx.query(
            self._records, self._events.record_params(after, stop, limit), binary=True, prepare=True
        )

    def record_batches(
        self, after: int, stop: int, limit: int, batch: int
    ) -> Generator[list[RecordRow], None, None]:
        """``record_rows``, ``batch`` rows at a time from one statement: a reader
        hashing them never holds more than a batch of row objects. The statement
        stays open until the iterator is exhausted or closed: run no other on this
        ``LedgerTx`` meanwhile. (Here one batch of all; the backends stream.)"""
        rows = self.record_rows(after, stop, limit)
        for start in range(0, len(rows), batch):
            yield rows[start : start + batch]

    def scan_once(self) -> None:
        """This connection reads each page once, in order (a verification worker's):
        its own page cache would only hold pages never read again, in every worker.
        Nothing to do where the server caches pages (PostgreSQL)."""
        return

    def records(self, after: int, stop: int, limit: int) -> list[RawRecord]:
        """``record_rows`` as ``RawRecord``s."""
        return list(map(RawRecord._make, self.record_rows(after, stop, limit)))

    def stored_chunk(self, start: int, size: int) -> StoredChunk:
        """The node hashes and leaf positions of leaves ``[start, start + size)``, each
        concatenated by the database: one value instead of a row per node. The nodes
        are those of every level ``l`` below ``size.bit_length()``, indices
        ``start >> l`` to ``(start + size) >> l`` (exclusive): with ``start`` a multiple
        of ``2 ** (size.bit_length() - 1)``, the perfect subtrees within the range.

        Both engines feed an aggregate its rows in the order of an ordered subquery,
        though neither promises it in general: should one ever not, the values differ
        from what verification recomputes and it checks the chunk row by row, with
        ``leaf_rows`` and ``node_ranges``, whose order is promised. ``None`` where a
        level or the leaves have no row at all.
        """
        statement = self._stored_chunk_sql(size.bit_length())
        ranges = self._chunk_ranges(start, size)
        rows = self._tx.query(statement, ranges, binary=True, prepare=True)
        nodes, positions = rows[0] if rows else (None, None)
        return StoredChunk(None if nodes is None else bytes(nodes), positions)

    @abstractmethod
    def _stored_chunk_sql(self, levels: int) -> str:
        """``stored_chunk``'s statement for a chunk whose tree has ``levels`` levels."""

    @staticmethod
    def _chunk_ranges(start: int, size: int) -> list[int]:
        """``stored_chunk``'s parameters: each level's index range, then the leaves'."""
        end = start + size
        levels = [v for level in range(size.bit_length()) for v in (start >> level, end >> level)]
        return [*levels, start, end]

    def _sql(self, template: str) -> str:
        return template.format(**self._n)

    @functools.cached_property
    def _records(self) -> str:
        return self._events.records(hyphenated=False)

    def head(self) -> Head:
        rows = self._query(self._sql("SELECT size, last_position FROM {head} WHERE id = 1"), ())
        if not rows:
            return Head(0, 0)
        size, last = rows[0]
        return Head(int(size), int(last))

    def set_head(self, head: Head) -> None:
        self._command(
            self._sql("UPDATE {head} SET size = %s, last_position = %s WHERE id = 1"),
            (head.size, head.last_position),
        )

    def add_nodes(self, nodes: Sequence[Node], leaves: Sequence[tuple[int, int]]) -> None:
        """Plain inserts: a node or leaf already there is a bug (a double append), and
        must fail the transaction rather than pass silently."""
        self._many(
            self._sql("INSERT INTO {nodes} (level, idx, hash) VALUES (%s, %s, %s)"),
            [(n.level, n.index, n.hash) for n in nodes],
        )
        self._many(self._sql("INSERT INTO {leaves} (idx, position) VALUES (%s, %s)"), leaves)

    def level_range(self, level: int, start: int, end: int) -> list[tuple[int, bytes]]:
        """``(idx, hash)`` of the stored nodes of one level with ``start <= idx < end``."""
        rows = self._query(
            self._sql(
                "SELECT idx, hash FROM {nodes} WHERE level = %s AND idx >= %s AND idx < %s "
                "ORDER BY idx"
            ),
            (level, start, end),
        )
        return [(int(i), bytes(h)) for i, h in rows]

    def leaves(self, start: int, end: int) -> list[StoredLeaf]:
        """The stored leaves with ``start <= idx < end``: position and leaf hash (empty
        when the leaf's node is missing, which only tampering can do)."""
        return [StoredLeaf(i, p, h) for i, p, h in self.leaf_rows(start, end)]

    def leaf_rows(self, start: int, end: int) -> list[tuple[int, int, bytes]]:
        """``leaves`` as plain tuples ``(idx, position, hash)``, ordered by idx."""
        rows = self._query(
            self._sql(
                "SELECT l.idx, l.position, n.hash FROM {leaves} l "
                "LEFT JOIN {nodes} n ON n.level = 0 AND n.idx = l.idx "
                "WHERE l.idx >= %s AND l.idx < %s ORDER BY l.idx"
            ),
            (start, end),
        )
        return [(i, p, h or b"") for i, p, h in rows]

    def position(self, index: int) -> int | None:
        """The notification id of the record leaf ``index`` is."""
        rows = self._query(self._sql("SELECT position FROM {leaves} WHERE idx = %s"), (index,))
        return int(rows[0][0]) if rows else None

    def node_ranges(self, ranges: Sequence[tuple[int, int, int]]) -> list[tuple[int, int, bytes]]:
        """``(level, idx, hash)`` of the stored nodes in several ``(level, start, end)``
        index ranges, ordered by level then idx: one query of primary-key range scans."""
        if not ranges:
            return []
        one = "SELECT level, idx, hash FROM {nodes} WHERE level = %s AND idx >= %s AND idx < %s"
        rows = self._query(
            self._sql(" UNION ALL ".join([one] * len(ranges)) + " ORDER BY 1, 2"),
            [value for r in ranges for value in r],
        )
        return [(int(level), int(index), bytes(h)) for level, index, h in rows]

    def hashed_versions(self, streams: Sequence[str]) -> dict[str, int]:
        """The highest version ledgered of each of these streams (32 hex digits each;
        a stream never ledgered is absent)."""
        found: dict[str, int] = {}
        unique = sorted(set(streams))
        for start in range(0, len(unique), 500):  # well under any placeholder limit
            part = unique[start : start + 500]
            rows = self._query(
                self._sql("SELECT stream, version FROM {streams} WHERE stream IN (")
                + ", ".join(["%s"] * len(part))
                + ")",
                part,
            )
            found.update((str(stream), int(version)) for stream, version in rows)
        return found

    def set_hashed_versions(self, versions: Sequence[tuple[str, int]]) -> None:
        """Record the highest version ledgered of these streams (never lowers one)."""
        self._many(
            self._sql(
                "INSERT INTO {streams} AS s (stream, version) VALUES (%s, %s) "
                "ON CONFLICT (stream) DO UPDATE SET version = excluded.version "
                "WHERE excluded.version > s.version"
            ),
            versions,
        )

    def record_count(self, stop: int) -> int:
        """How many records the events table holds at positions up to ``stop``: all of
        them less those after ``stop``, in one statement (one snapshot). Counting all
        reads the smallest index (SQLite: the stream-version one, 2 ms for 100,000
        records where a range count of the table's rows took 130 ms); the tail not yet
        ledgered is a short range."""
        p, t = self._events.position, self.dialect.qualify(self._events.name)
        rows = self._query(
            f"SELECT (SELECT COUNT(*) FROM {t}) - (SELECT COUNT(*) FROM {t} WHERE {p} > %s)",
            (stop,),
        )
        return int(rows[0][0])

    def backfill_hashed_versions(self) -> None:
        """Fill ``hashed_versions`` from the records already ledgered, once, for a
        ledger that followed the log before the table existed."""
        head = self.head()
        if head.last_position == 0 or self._query(self._sql("SELECT 1 FROM {streams} LIMIT 1")):
            return
        sqlite = self.dialect.name == "sqlite"
        stream = "originator_id" if sqlite else "replace(originator_id::text, '-', '')"
        p = self._events.position
        self._command(
            self._sql("INSERT INTO {streams} (stream, version) ")
            + f"SELECT {stream}, MAX(originator_version) FROM "
            + f"{self.dialect.qualify(self._events.name)} WHERE {p} <= %s GROUP BY originator_id",
            (head.last_position,),
        )

    def checkpoints(self) -> list[StoredCheckpoint]:
        """Every checkpoint, smallest tree first."""
        rows = self._query(
            self._sql("SELECT size, root, note, signed_at FROM {checkpoints} ORDER BY size"), ()
        )
        return [self._checkpoint(row) for row in rows]

    def latest_checkpoint(self) -> StoredCheckpoint | None:
        rows = self._query(
            self._sql(
                "SELECT size, root, note, signed_at FROM {checkpoints} ORDER BY size DESC LIMIT 1"
            ),
            (),
        )
        return self._checkpoint(rows[0]) if rows else None

    def add_checkpoint(self, checkpoint: StoredCheckpoint) -> None:
        """A plain insert: a checkpoint is never overwritten."""
        self._command(
            self._sql(
                "INSERT INTO {checkpoints} (size, root, note, signed_at) VALUES (%s, %s, %s, %s)"
            ),
            (
                checkpoint.size,
                checkpoint.root,
                checkpoint.note,
                self._tx.dialect.encode("stamp", checkpoint.signed_at),
            ),
        )

    def _checkpoint(self, row: tuple[Any, ...]) -> StoredCheckpoint:
        size, root, note, signed_at = row
        return StoredCheckpoint(
            int(size), bytes(root), bytes(note), self._tx.dialect.decode("stamp", signed_at)
        )


class LedgerTables:
    """The ledger's tables beside the events, on ``database`` (closed with the
    tables when ``owned``). ``create``: the tables are created if missing (False
    for a reader that knows they exist: no write, no lock)."""

    def __init__(
        self,
        database: Database,
        events_table: str,
        make_tx: Callable[[Tx, EventsTable], LedgerTx],
        *,
        create: bool = True,
        owned: bool = False,
    ) -> None:
        self.database = database
        self._events = EventsTable(database.dialect, events_table)
        self._make_tx = make_tx
        self._owned = owned
        self._lock = f"rete ledger {database.dialect.schema}"
        # Where these tables were opened from, so that another process (a
        # verification worker) can open the same tables; None: not reopenable.
        self.address = TablesAddress(database.url, events_table) if database.url else None
        if create:
            self._create()

    def _create(self) -> None:
        with self.write() as tx:  # the lock also keeps two starting processes apart
            dialect = tx.dialect
            sqlite = dialect.name == "sqlite"
            for statement in DDL:
                tx._command(
                    statement.format(
                        **tx._n,
                        blob=dialect.types["blob"],
                        time=dialect.types["stamp"],
                        length=dialect.length,
                        # SQLite: INTEGER PRIMARY KEY is the rowid itself, no second index.
                        leaf_key="INTEGER" if sqlite else "BIGINT",
                        without_rowid=" WITHOUT ROWID" if sqlite else "",
                    )
                )
            tx.backfill_hashed_versions()

    @contextmanager
    def read(self, *, scan: bool = True) -> Iterator[LedgerTx]:
        """Statements outside any write transaction (each sees the latest commit),
        the planner told to read by index in key order: on tables just filled or
        restored, not yet analysed, it chose whole scans even for a proof's few
        primary-key lookups. ``scan=False``: without telling it (on PostgreSQL the
        telling takes a transaction, three round trips instead of one), for
        equality lookups of a primary key, which its uniqueness alone makes the
        planner read by index."""
        with self.database.read(scan=scan) as tx:
            yield self._make_tx(tx, self._events)

    @contextmanager
    def write(self) -> Iterator[LedgerTx]:
        """One transaction, serialised with every other ledger writer, in any process."""
        with self.database.write(self._lock, scan=True) as tx:
            yield self._make_tx(tx, self._events)

    def close(self) -> None:
        if self._owned:
            self.database.close()
