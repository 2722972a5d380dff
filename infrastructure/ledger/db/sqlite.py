"""The ledger's tables on SQLite, in the events' database file, through sqlite3."""

from __future__ import annotations

import functools
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from infrastructure.ledger.db.base import (
    CHECKPOINTS,
    DDL,
    HEAD,
    LEAVES,
    NODES,
    LedgerTables,
    LedgerTx,
    RecordRow,
    StoredChunk,
)
from infrastructure.ledger.merkle import NodeId
from infrastructure.private_files import private_sqlite

_NAMES = {"nodes": NODES, "leaves": LEAVES, "head": HEAD, "checkpoints": CHECKPOINTS}


class _SqliteTx(LedgerTx):
    def __init__(self, conn: sqlite3.Connection, events_table: str) -> None:
        super().__init__(_NAMES)
        self._conn = conn
        self._events = events_table

    def _sql(self, template: str) -> str:
        return super()._sql(template).replace("%s", "?")

    def _query(self, statement: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        return self._conn.execute(statement, params).fetchall()

    def _command(self, statement: str, params: Sequence[Any]) -> None:
        self._conn.execute(statement, params)

    def _many(self, statement: str, rows: Iterable[Sequence[Any]]) -> None:
        self._conn.executemany(statement, rows)

    def _to_db_time(self, moment: datetime) -> Any:
        return moment.isoformat()

    def _from_db_time(self, value: Any) -> datetime:
        return datetime.fromisoformat(str(value))

    def nodes(self, ids: Sequence[NodeId]) -> dict[NodeId, bytes]:
        if not ids:
            return {}
        # A tiny VALUES table joined on the primary key: one indexed lookup per node.
        wanted = ",".join("(?, ?)" for _ in ids)
        params = [v for node in ids for v in (node.level, node.index)]
        rows = self._conn.execute(
            f"WITH w(l, i) AS (VALUES {wanted}) "
            f"SELECT w.l, w.i, n.hash FROM w JOIN {NODES} n ON n.level = w.l AND n.idx = w.i",
            params,
        ).fetchall()
        return {NodeId(int(level), int(index)): bytes(h) for level, index, h in rows}

    def record_rows(self, after: int, stop: int, limit: int) -> list[RecordRow]:
        # The notification id of eventsourcing's SQLite recorder is the rowid.
        return self._conn.execute(
            "SELECT rowid, originator_id, originator_version, topic, state "
            f'FROM "{self._events}" WHERE rowid > ? AND rowid <= ? ORDER BY rowid LIMIT ?',
            (after, stop, limit),
        ).fetchall()

    def stored_chunk(self, start: int, size: int) -> StoredChunk:
        statement = _stored_chunk_sql(size.bit_length())
        row = self._conn.execute(statement, self._chunk_ranges(start, size)).fetchone()
        nodes, positions = row if row else (None, None)
        return StoredChunk(None if nodes is None else bytes(nodes), positions)


@functools.cache
def _stored_chunk_sql(levels: int) -> str:
    # group_concat makes text of blobs byte for byte (its length is kept, NULs too);
    # CAST gives the bytes back. One UNION ALL branch per level, each a primary-key
    # range scan already in index order (an outer ORDER BY would sort them again).
    # A value of another type (only tampering stores one) becomes NULL, which
    # group_concat leaves out: the result is then too short to match, as the rows
    # (a text hash, a blob position) would not match either.
    branches = " UNION ALL ".join(
        "SELECT * FROM (SELECT iif(typeof(hash) = 'blob', hash, NULL) AS hash "
        f"FROM {NODES} WHERE level = {lv} AND idx >= ? AND idx < ? ORDER BY idx)"
        for lv in range(levels)
    )
    return (
        f"SELECT (SELECT CAST(group_concat(hash, x'') AS BLOB) FROM ({branches})), "
        "(SELECT group_concat(iif(typeof(position) = 'integer', position, NULL), ',') "
        f"FROM (SELECT position FROM {LEAVES} WHERE idx >= ? AND idx < ? ORDER BY idx))"
    )


class SqliteLedgerTables(LedgerTables):
    """Two connections, each behind a lock: one writes (``BEGIN IMMEDIATE`` takes the
    database's write lock, so ledger writers in other processes wait their turn), one
    reads (WAL: readers see the last commit and never wait for the writer)."""

    def __init__(self, path: str, events_table: str, *, create: bool = True) -> None:
        if path != ":memory:":
            private_sqlite(path)
        self._events = events_table
        self._writer = self._connect(path)
        self._reader = self._connect(path)
        self._write_lock = threading.Lock()
        self._read_lock = threading.Lock()
        if create:
            self._create()

    def _create(self) -> None:
        with self.write() as tx:
            for statement in DDL:
                tx._command(
                    statement.format(
                        **_NAMES,
                        blob="BLOB",
                        time="TEXT",
                        length="length",
                        # INTEGER PRIMARY KEY is the rowid itself: no second index.
                        leaf_key="INTEGER",
                        without_rowid=" WITHOUT ROWID",
                    ),
                    (),
                )

    @staticmethod
    def _connect(path: str) -> sqlite3.Connection:
        # isolation_level=None: we issue BEGIN/COMMIT ourselves.
        conn = sqlite3.connect(path, timeout=30.0, isolation_level=None, check_same_thread=False)
        if path != ":memory:":
            conn.execute("PRAGMA journal_mode = WAL")  # as the event store sets it
        return conn

    @contextmanager
    def read(self) -> Iterator[LedgerTx]:
        with self._read_lock:
            yield _SqliteTx(self._reader, self._events)

    @contextmanager
    def write(self) -> Iterator[LedgerTx]:
        with self._write_lock:
            self._writer.execute("BEGIN IMMEDIATE")
            try:
                yield _SqliteTx(self._writer, self._events)
            except BaseException:
                self._writer.execute("ROLLBACK")
                raise
            self._writer.execute("COMMIT")

    def close(self) -> None:
        with self._write_lock, self._read_lock:
            self._writer.close()
            self._reader.close()
