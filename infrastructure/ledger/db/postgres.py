"""The ledger's statements written for PostgreSQL."""

from __future__ import annotations

import functools
from collections.abc import Generator, Sequence

from psycopg.rows import tuple_row

from infrastructure.db.tx import PostgresTx
from infrastructure.ledger.compact import Node
from infrastructure.ledger.db.base import LedgerTx
from infrastructure.ledger.db.schema import RecordRow
from infrastructure.ledger.merkle import NodeId


class PostgresLedgerTx(LedgerTx):
    def add_nodes(self, nodes: Sequence[Node], leaves: Sequence[tuple[int, int]]) -> None:
        # One statement per table and batch, the rows as arrays: a round trip per
        # row (even pipelined) would make the follower the slowest writer here.
        self._command(
            self._sql(
                "INSERT INTO {nodes} (level, idx, hash) "
                "SELECT * FROM unnest(%s::int[], %s::bigint[], %s::bytea[])"
            ),
            ([n.level for n in nodes], [n.index for n in nodes], [n.hash for n in nodes]),
        )
        self._command(
            self._sql(
                "INSERT INTO {leaves} (idx, position) SELECT * FROM unnest(%s::bigint[], %s::bigint[])"
            ),
            ([i for i, _ in leaves], [p for _, p in leaves]),
        )

    def record_batches(
        self, after: int, stop: int, limit: int, batch: int
    ) -> Generator[list[RecordRow], None, None]:
        tx = self._tx
        assert isinstance(tx, PostgresTx)
        # A server-side cursor (the ledger's reads run in a transaction): the server
        # sends ``batch`` rows a fetch, so neither libpq's buffer nor Python holds
        # more than a batch of the chunk (measured: 1.4 MiB less per worker than a
        # client-side cursor, whose result arrives whole), for a round trip a batch.
        tx.begin()  # a named cursor lives in a transaction: open it now, not lazily
        with tx._conn.cursor("rete_verify_records", binary=True, row_factory=tuple_row) as cursor:
            cursor.itersize = batch
            cursor.execute(self._records, self._events.record_params(after, stop, limit))
            while rows := cursor.fetchmany(batch):
                yield rows

    def nodes(self, ids: Sequence[NodeId]) -> dict[NodeId, bytes]:
        if not ids:
            return {}
        # LATERAL forces one primary-key lookup per wanted node, whatever the
        # planner would guess about the size of the unnested arrays.
        rows = self._query(
            self._sql(
                "SELECT w.l, w.i, n.hash FROM unnest(%s::int[], %s::bigint[]) AS w(l, i) "
                "JOIN LATERAL (SELECT hash FROM {nodes} WHERE level = w.l AND idx = w.i) n "
                "ON true"
            ),
            ([node.level for node in ids], [node.index for node in ids]),
        )
        return {NodeId(int(level), int(index)): bytes(h) for level, index, h in rows}

    def _stored_chunk_sql(self, levels: int) -> str:
        return _stored_chunk_sql(levels).format(**self._n)


@functools.cache
def _stored_chunk_sql(levels: int) -> str:
    # One aggregate per level, joined with || in level order (NULL if a level has no
    # row). The ordered subqueries are primary-key range scans, which need no sort;
    # string_agg(... ORDER BY idx) would sort every level again.
    nodes = " || ".join(
        "(SELECT string_agg(hash, ''::bytea) FROM (SELECT hash FROM {nodes} "
        f"WHERE level = {lv} AND idx >= %s AND idx < %s ORDER BY idx) AS l{lv})"
        for lv in range(levels)
    )
    return (
        f"SELECT {nodes}, (SELECT string_agg(position::text, ',') FROM (SELECT position "
        "FROM {leaves} WHERE idx >= %s AND idx < %s ORDER BY idx) AS p)"
    )
