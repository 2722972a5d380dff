"""The ledger's statements written for SQLite."""

from __future__ import annotations

import functools
from collections.abc import Generator, Sequence
from typing import Final

from infrastructure.db.tx import SqliteTx
from infrastructure.ledger.db.base import LedgerTx
from infrastructure.ledger.db.schema import LEAVES, NODES, RecordRow
from infrastructure.ledger.merkle import NodeId

SCAN_CACHE_KIB: Final = 256


class SqliteLedgerTx(LedgerTx):
    def record_batches(
        self, after: int, stop: int, limit: int, batch: int
    ) -> Generator[list[RecordRow], None, None]:
        tx = self._tx
        assert isinstance(tx, SqliteTx)
        # A cursor of its own, making tuples (the event store's connections make
        # sqlite3.Row rows): SQLite steps the statement as batches are fetched.
        cursor = tx.cursor.connection.cursor()
        cursor.row_factory = None
        try:
            cursor.execute(
                self._records.replace("%s", "?"), self._events.record_params(after, stop, limit)
            )
            while rows := cursor.fetchmany(batch):
                yield rows
        finally:
            cursor.close()

    def scan_once(self) -> None:
        # 256 KiB instead of SQLite's 2 MiB per connection: the operating system caches
        # the file for every process at once. (Measured: no slower on 200,000 records.)
        self._tx.command(f"PRAGMA cache_size = -{SCAN_CACHE_KIB}")

    def nodes(self, ids: Sequence[NodeId]) -> dict[NodeId, bytes]:
        if not ids:
            return {}
        # A tiny VALUES table joined on the primary key: one indexed lookup per node.
        wanted = ",".join("(%s, %s)" for _ in ids)
        params = [v for node in ids for v in (node.level, node.index)]
        rows = self._tx.query(
            f"WITH w(l, i) AS (VALUES {wanted}) "
            f"SELECT w.l, w.i, n.hash FROM w JOIN {NODES} n ON n.level = w.l AND n.idx = w.i",
            params,
        )
        return {NodeId(int(level), int(index)): bytes(h) for level, index, h in rows}

    def _stored_chunk_sql(self, levels: int) -> str:
        return _stored_chunk_sql(levels)


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
        f"FROM {NODES} WHERE level = {lv} AND idx >= %s AND idx < %s ORDER BY idx)"
        for lv in range(levels)
    )
    return (
        f"SELECT (SELECT CAST(group_concat(hash, x'') AS BLOB) FROM ({branches})), "
        "(SELECT group_concat(iif(typeof(position) = 'integer', position, NULL), ',') "
        f"FROM (SELECT position FROM {LEAVES} WHERE idx >= %s AND idx < %s ORDER BY idx))"
    )
