"""The ledger's tables on PostgreSQL, in the events' schema, through psycopg and a pool."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any, Final

import psycopg
from psycopg import sql
from psycopg_pool import ConnectionPool

from infrastructure.ledger.compact import Node
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

# Advisory lock namespace ("RETE" as an int4, as the key store uses); the second
# key names the ledger of one schema, so two schemas' ledgers do not wait on each other.
_LOCK_NAMESPACE: Final = 0x52455445


class _PostgresTx(LedgerTx):
    def __init__(
        self, conn: psycopg.Connection[Any], names: dict[str, str], events_table: str
    ) -> None:
        super().__init__(names)
        self._conn = conn
        self._events = events_table

    def _query(self, statement: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        with self._conn.cursor() as cursor:
            cursor.execute(statement, params, prepare=True)
            return list(cursor.fetchall())

    def _command(self, statement: str, params: Sequence[Any]) -> None:
        self._conn.execute(statement, params)

    def _many(self, statement: str, rows: Iterable[Sequence[Any]]) -> None:
        with self._conn.cursor() as cursor:
            cursor.executemany(statement, list(rows))

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

    def _to_db_time(self, moment: datetime) -> Any:
        return moment

    def _from_db_time(self, value: Any) -> datetime:
        assert isinstance(value, datetime)
        return value

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

    def record_rows(self, after: int, stop: int, limit: int) -> list[RecordRow]:
        # Binary results: bytea arrives as bytes without decoding hex, and the id as
        # text, as SQLite has it (hashing a str is C, a UUID's is Python).
        with self._conn.cursor(binary=True) as cursor:
            cursor.execute(
                "SELECT notification_id, originator_id::text, originator_version, topic, state "
                f"FROM {self._events} WHERE notification_id > %s AND notification_id <= %s "
                "ORDER BY notification_id LIMIT %s",
                (after, stop, limit),
                prepare=True,
            )
            return cursor.fetchall()

    def stored_chunk(self, start: int, size: int) -> StoredChunk:
        statement = _stored_chunk_sql(size.bit_length()).format(**self._n)
        with self._conn.cursor(binary=True) as cursor:
            cursor.execute(statement, self._chunk_ranges(start, size), prepare=True)
            row = cursor.fetchone()
        nodes, positions = row if row else (None, None)
        return StoredChunk(None if nodes is None else bytes(nodes), positions)


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


class PostgresLedgerTables(LedgerTables):
    """A small pool (as the key store has); writers serialise on a transaction-scoped
    advisory lock, so any process may catch up or sign, never two at once."""

    def __init__(
        self, conninfo: str, schema: str, events_table: str, *, create: bool = True
    ) -> None:
        self._names = {
            name: sql.Identifier(schema, table).as_string()
            for name, table in (
                ("nodes", NODES),
                ("leaves", LEAVES),
                ("head", HEAD),
                ("checkpoints", CHECKPOINTS),
            )
        }
        self._events = sql.Identifier(schema, events_table).as_string()
        self._lock_key = f"rete ledger {schema}"
        self._pool: ConnectionPool[psycopg.Connection[Any]] = ConnectionPool(
            conninfo,
            min_size=1,
            max_size=4,
            num_workers=1,
            timeout=10.0,
            # Every ledger query is a few primary-key lookups or one range scan:
            # parallel workers only add their start-up (milliseconds) to each, and
            # an index scan in key order is always the plan wanted. Without
            # statistics (a table just filled or restored, not yet analysed) the
            # planner chose bitmap scans of the whole rest of the log plus a sort
            # for each page of records: verification went quadratic (42 ms a page
            # at 100,000 records, 4 ms by the index).
            kwargs={
                "autocommit": True,
                "connect_timeout": 5,
                "options": (
                    "-c max_parallel_workers_per_gather=0 "
                    "-c enable_bitmapscan=off -c enable_seqscan=off"
                ),
            },
            open=True,
        )
        if create:
            self._create()

    def _create(self) -> None:
        try:
            with self.write() as tx:  # the lock also keeps two starting processes apart
                for statement in DDL:
                    tx._command(
                        statement.format(
                            **self._names,
                            blob="BYTEA",
                            time="TIMESTAMPTZ",
                            length="octet_length",
                            leaf_key="BIGINT",
                            without_rowid="",
                        ),
                        (),
                    )
        except BaseException:
            self._pool.close()
            raise

    @contextmanager
    def read(self) -> Iterator[LedgerTx]:
        with self._pool.connection() as conn:
            yield _PostgresTx(conn, self._names, self._events)

    @contextmanager
    def write(self) -> Iterator[LedgerTx]:
        with self._pool.connection() as conn, conn.transaction():
            conn.execute(
                "SELECT pg_advisory_xact_lock(%s::int4, hashtext(%s))",
                (_LOCK_NAMESPACE, self._lock_key),
            )
            yield _PostgresTx(conn, self._names, self._events)

    def close(self) -> None:
        self._pool.close()
