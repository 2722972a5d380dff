"""The database on PostgreSQL: the event store's ``PostgresDatastore`` pool
(psycopg_pool), in the schema of ``RETE_DATABASE_URL``.

Named writers serialise on a transaction-scoped advisory lock; snapshots are
repeatable-read, read-only transactions.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any, Final

import psycopg
from eventsourcing.postgres import PostgresDatastore
from psycopg import sql

from infrastructure.db.database import LOCK_NAMESPACE, Database, Durability
from infrastructure.db.dialect import PostgresDialect
from infrastructure.db.tx import PostgresTx, Tx

# For ``scan``: every such query is a few primary-key lookups or one range scan.
# Parallel workers only add their start-up (milliseconds) to each, and an index
# scan in key order is always the plan wanted. Without statistics (a table just
# filled or restored, not yet analysed) the planner chose bitmap scans of the
# whole rest of the log plus a sort for each page of records: the ledger's
# verification went quadratic (42 ms a page at 100,000 records, 4 ms by the index).
_SCAN: Final = (
    ("max_parallel_workers_per_gather", "0"),
    ("enable_bitmapscan", "off"),
    ("enable_seqscan", "off"),
)
# Derived rows and bulk batches: their commit need not wait for the WAL's flush.
_ASYNC: Final = (("synchronous_commit", "off"),)
# A bulk batch (a rebuild's load) is no request: the request's statement timeout
# (``postgres_pool``) does not apply to it.
_UNTIMED: Final = (("statement_timeout", "0"),)

# Read transactions: (snapshot, scan) -> the statements opening one.
_BEGIN: Final = {
    (snapshot, scan): tuple(
        statement.encode()
        for statement in [
            "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY" if snapshot else "BEGIN READ ONLY",
            *(f"SET LOCAL {name} = {value}" for name, value in (_SCAN if scan else ())),
        ]
    )
    for snapshot in (False, True)
    for scan in (False, True)
}


class PostgresDatabase(Database):
    def __init__(self, datastore: PostgresDatastore) -> None:
        self.datastore = datastore
        self.dialect = self._dialect = PostgresDialect(datastore.schema)
        self._openings: dict[tuple[str | None, tuple[tuple[str, str], ...]], tuple[bytes, ...]] = {}
        super().__init__()

    @property
    def pool_size(self) -> int:
        return int(self.datastore.pool.max_size)

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection[Any]]:
        pool = self.datastore.pool
        pool.open()  # as the datastore does: the pool opens at its first use
        with pool.connection() as conn:
            yield conn

    @contextmanager
    def _read(self, snapshot: bool, scan: bool) -> Iterator[Tx]:
        with self._connection() as conn:
            if not snapshot and not scan:
                yield PostgresTx(conn, self._dialect)
                return
            # The transaction and its settings in one round trip (one simple query).
            with self._transaction(conn, _BEGIN[snapshot, scan]) as tx:
                yield tx

    @contextmanager
    def _write(
        self, lock: str | None, durability: Durability, scan: bool, scrub: bool
    ) -> Iterator[Tx]:
        # ``scrub`` does nothing here: VACUUM does not zero freed space, and the WAL
        # and backups keep old pages anyway (docs/ENCRYPTION.md: rotating the KEK is
        # what makes those copies useless).
        pairs = (
            *(_SCAN if scan else ()),
            *(_ASYNC if durability != "full" else ()),
            *(_UNTIMED if durability == "bulk" else ()),
        )
        # The transaction, its lock and its settings in one round trip.
        with (
            self._connection() as conn,
            self._transaction(conn, self._opening(conn, lock, pairs)) as tx,
        ):
            yield tx

    @contextmanager
    def _transaction(
        self, conn: psycopg.Connection[Any], opening: tuple[bytes, ...]
    ) -> Iterator[Tx]:
        """A transaction opened by ``opening`` (its statements, sent with the first
        statement: ``PostgresTx``), committed at the end, rolled back on any error;
        one in which no statement ran was never opened, and has nothing to end.
        Statements without results wait for the next one or the commit (``defer``):
        one of them that fails fails the commit, and the transaction is rolled back."""
        tx = PostgresTx(conn, self._dialect, opening, defer=True)
        try:
            yield tx
        except BaseException:
            tx.discard()
            if tx.begun:
                _roll_back(conn)
            raise
        if tx.begun:
            try:
                tx.commit()
            except BaseException:
                if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                    _roll_back(conn)
                raise

    def _opening(
        self, conn: psycopg.Connection[Any], lock: str | None, pairs: tuple[tuple[str, str], ...]
    ) -> tuple[bytes, ...]:
        """The statements that open a write transaction, kept by lock and settings."""
        key = (lock, pairs)
        found = self._openings.get(key)
        if found is None:
            statements: list[sql.Composable] = [sql.SQL("BEGIN")]
            if lock is not None:
                statements.append(
                    sql.SQL("SELECT pg_advisory_xact_lock({}::int4, hashtext({}))").format(
                        LOCK_NAMESPACE, sql.Literal(lock)
                    )
                )
            statements += [sql.SQL(f"SET LOCAL {name} = {value}") for name, value in pairs]
            found = self._openings[key] = tuple(s.as_bytes(conn) for s in statements)
        return found

    def scrub_log(self) -> bool | None:
        # Nothing to do from here: VACUUM does not zero freed space, and the WAL
        # and backups keep old pages anyway. Those copies are wrapped; rotating the
        # KEK and retiring the old version is what makes them useless (docs).
        return None

    def _join_lock(self, tx: Tx, lock: str) -> None:
        tx.query("SELECT pg_advisory_xact_lock(%s::int4, hashtext(%s))", (LOCK_NAMESPACE, lock))


def _roll_back(conn: psycopg.Connection[Any]) -> None:
    with suppress(psycopg.Error):  # a broken connection: the pool drops it
        conn.execute("ROLLBACK")
