"""The key store's tables on SQLite, through the standard library's sqlite3."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from infrastructure.crypto.keydb.base import DDL, GONE, KEYS, SCOPES, KeyTables, KeyTx
from infrastructure.private_files import private_sqlite


class _SqliteTx(KeyTx):
    def __init__(self, conn: sqlite3.Connection) -> None:
        super().__init__({"keys": KEYS, "scopes": SCOPES, "gone": GONE})
        self._conn = conn

    def _sql(self, template: str) -> str:
        return super()._sql(template).replace("%s", "?")

    def _query(self, statement: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        return self._conn.execute(statement, params).fetchall()

    def _command(self, statement: str, params: tuple[Any, ...]) -> int:
        return self._conn.execute(statement, params).rowcount

    def _time(self, moment: datetime) -> Any:
        return moment.isoformat()


class SqliteKeyTables(KeyTables):
    """One connection, shared by this store's threads under a lock: with the
    cache in front, the key store reads the database rarely."""

    def __init__(self, path: str) -> None:
        if path != ":memory:":
            private_sqlite(path)
        # isolation_level=None: we issue BEGIN/COMMIT ourselves.
        self._conn = sqlite3.connect(
            path, timeout=30.0, isolation_level=None, check_same_thread=False
        )
        self._lock = threading.RLock()
        self._memory = path == ":memory:"
        # Deleted rows are overwritten with zeros rather than left in free pages.
        self._conn.execute("PRAGMA secure_delete = ON")
        if not self._memory:
            self._conn.execute("PRAGMA journal_mode = WAL")  # as the event store sets it
        with self.write(None) as tx:
            for statement in DDL:
                tx._command(
                    statement.format(
                        keys=KEYS,
                        scopes=SCOPES,
                        gone=GONE,
                        blob="BLOB",
                        time="TEXT",
                        length="length",
                    ),
                    (),
                )

    @contextmanager
    def read(self) -> Iterator[KeyTx]:
        with self._lock:
            yield _SqliteTx(self._conn)

    @contextmanager
    def write(self, scope: str | None) -> Iterator[KeyTx]:
        with self._lock:
            # IMMEDIATE takes the database's write lock now, not at the first write:
            # the read-then-insert below is then atomic against other processes.
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield _SqliteTx(self._conn)
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def after_destroy(self) -> None:
        # secure_delete zeroed the rows in the pages; the WAL may still hold the
        # page images from when they were written. Fold it back and truncate it.
        # Best effort: a reader elsewhere can keep part of the WAL alive.
        if not self._memory:
            with self._lock:
                self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()

    def close(self) -> None:
        with self._lock:
            self._conn.close()
