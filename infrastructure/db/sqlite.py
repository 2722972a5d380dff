"""The database on SQLite: the connections of the event store's ``SQLiteDatastore``.

Reads take a reader's connection; writes a writer's, which the pool hands to one
thread at a time (the event store's writes included), and every write transaction,
the event store's too, begins with ``BEGIN IMMEDIATE``: it takes the database's
write lock before its first statement, so writers in other processes wait their
turn (up to the busy timeout) instead of failing at once when a deferred
transaction's snapshot went stale.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager, suppress

from eventsourcing.persistence import InterfaceError, OperationalError
from eventsourcing.sqlite import (
    SQLITE3_DEFAULT_LOCK_TIMEOUT,
    SQLiteConnection,
    SQLiteConnectionPool,
    SQLiteCursor,
    SQLiteDatastore,
    SQLiteTransaction,
)

from infrastructure.db.database import Database, Durability
from infrastructure.db.dialect import SQLITE
from infrastructure.db.tx import SqliteTx, Tx

# Prepared statements each connection keeps (sqlite3's default). The library's
# connections keep one (``cached_statements=True``): a views' batch alternating
# between a dozen statements would prepare each again at every row.
_STATEMENTS = 128


class _ImmediateTransaction(SQLiteTransaction):
    """The library's transaction (its commit, rollback and error types), a writing
    one begun with ``BEGIN IMMEDIATE`` rather than a deferred ``BEGIN``."""

    def __enter__(self) -> SQLiteCursor:
        if not self.commit:
            return super().__enter__()
        cursor = self.connection.cursor()
        try:
            cursor.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as e:  # busy past the timeout: the library's type
            raise OperationalError(e) from e
        return cursor

    def __exit__(self, *exc: object) -> None:
        try:
            super().__exit__(*exc)  # type: ignore[arg-type]
        except BaseException:
            # A COMMIT refused (the disk full) may leave the transaction open.
            with suppress(Exception):
                self.connection.rollback()
            raise


def _abandon(connection: sqlite3.Connection) -> None:
    """A COMMIT refused (the disk full, an I/O error) may leave the transaction
    open, and the pooled connection would refuse every later BEGIN: roll it back,
    as SQLite asks, so the next write finds the connection as new."""
    if connection.in_transaction:
        with suppress(sqlite3.Error):
            connection.execute("ROLLBACK")


class _Connection(SQLiteConnection):
    @contextmanager
    def transaction(self, *, commit: bool) -> Iterator[SQLiteCursor]:
        with _ImmediateTransaction(self, commit=commit) as curs, curs:
            yield curs


class SqlitePool(SQLiteConnectionPool):
    """The library's pool, its connections made as the library makes them (WAL,
    autocommit, ``sqlite3.Row`` rows) but keeping their prepared statements, and
    beginning the event store's writes with ``BEGIN IMMEDIATE``."""

    def _create_connection(self) -> SQLiteConnection:
        try:
            conn = sqlite3.connect(
                database=self.db_name,
                uri=True,
                check_same_thread=False,
                isolation_level=None,
                cached_statements=_STATEMENTS,
                timeout=self.lock_timeout or SQLITE3_DEFAULT_LOCK_TIMEOUT,
            )
        except (sqlite3.Error, TypeError) as e:
            raise InterfaceError(e) from e
        if not self.is_sqlite_memory_mode and not self.is_journal_mode_wal:
            conn.execute("PRAGMA journal_mode = WAL")
            self.is_journal_mode_wal = True
        conn.row_factory = sqlite3.Row
        return _Connection(sqlite_conn=conn, max_age=self.max_age)


def _tx(conn: SQLiteConnection) -> SqliteTx:
    """The connection's transaction for our statements, made once (a pooled
    connection serves one thread at a time)."""
    tx: SqliteTx | None = getattr(conn, "rete_tx", None)
    if tx is None:
        tx = SqliteTx(conn.cursor().sqlite_cursor)
        conn.rete_tx = tx  # type: ignore[attr-defined]
    return tx


class SqliteDatabase(Database):
    dialect = SQLITE

    def __init__(self, datastore: SQLiteDatastore) -> None:
        if datastore.pool.is_sqlite_memory_mode:
            raise ValueError("Rete keeps its tables beside the events in a database file")
        self.datastore = datastore
        super().__init__()

    @property
    def pool_size(self) -> int:
        pool = self.datastore.pool
        return int(pool.pool_size + pool.max_overflow)

    @contextmanager
    def _connection(self, *, writer: bool) -> Iterator[SqliteTx]:
        # Readers are not counted (is_writer=None): that only matters to in-memory
        # databases, which are refused.
        pool = self.datastore.pool
        conn: SQLiteConnection = pool.get_connection(is_writer=True if writer else None)
        try:
            yield _tx(conn)
        finally:
            pool.put_connection(conn)

    @contextmanager
    def _read(self, snapshot: bool, scan: bool) -> Iterator[Tx]:
        # One generator, not two: an idle catch-up of the views is one read here.
        pool = self.datastore.pool
        conn: SQLiteConnection = pool.get_connection()
        try:
            tx = _tx(conn)
            if not snapshot:
                yield tx
                return
            tx.cursor.execute("BEGIN")
            try:
                yield tx
            finally:
                tx.cursor.execute("COMMIT")
        finally:
            pool.put_connection(conn)

    @contextmanager
    def _write(
        self, lock: str | None, durability: Durability, scan: bool, scrub: bool
    ) -> Iterator[Tx]:
        with self._connection(writer=True) as tx:
            cursor = tx.cursor
            # Settings of the connection, for this transaction only: the event
            # store's own writes use the same connections with the defaults.
            restore = []
            if durability != "full":
                # Rows kept with their position in each transaction: a commit lost to
                # a power cut loses both, and the work is done again. So no sync at
                # this commit (WAL stays consistent; checkpoints still sync).
                (synchronous,) = cursor.execute("PRAGMA synchronous").fetchone()
                cursor.execute("PRAGMA synchronous = NORMAL")
                restore.append(f"PRAGMA synchronous = {int(synchronous)}")
            if scrub:
                # Deleted rows are overwritten with zeros rather than left in free pages.
                cursor.execute("PRAGMA secure_delete = ON")
                restore.append("PRAGMA secure_delete = OFF")
            try:
                # IMMEDIATE takes the database's write lock now, not at the first
                # write: a read-then-write inside is atomic against other processes.
                cursor.execute("BEGIN IMMEDIATE")
                try:
                    yield tx
                except BaseException:
                    cursor.execute("ROLLBACK")
                    raise
                try:
                    cursor.execute("COMMIT")
                except sqlite3.Error:
                    _abandon(cursor.connection)
                    raise
            finally:
                for statement in restore:
                    cursor.execute(statement)

    def _join_lock(self, tx: Tx, lock: str) -> None:
        # The transaction already holds the database's write lock.
        pass

    def scrub_log(self) -> bool | None:
        # secure_delete zeroed the rows in the pages; the WAL may still hold the
        # page images from when they were written, and a reader's open snapshot keeps
        # the old pages in the database file. Fold the log back and truncate it, and
        # say whether that worked: a reader elsewhere can keep part of it alive, and
        # the caller must then try again (an erasure stays pending until it works).
        with self._connection(writer=False) as tx:
            cursor = tx.cursor
            (timeout,) = cursor.execute("PRAGMA busy_timeout").fetchone()
            # Not waiting for readers: a reader may hold its snapshot for hours.
            cursor.execute("PRAGMA busy_timeout = 0")
            try:
                rows = cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
            finally:
                cursor.execute(f"PRAGMA busy_timeout = {int(timeout)}")
        busy, log_frames, folded_frames = (int(v) for v in rows[0])
        return busy == 0 and log_frames == folded_frames
