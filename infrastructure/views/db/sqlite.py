"""The views' tables on SQLite, in the events' database file, through sqlite3."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from infrastructure.private_files import private_sqlite
from infrastructure.views.db.base import (
    Convert,
    Dialect,
    ViewTables,
    ViewTx,
    from_micros,
    to_micros,
)


class SqliteDialect(Dialect):
    name = "sqlite"
    types = {"text": "TEXT", "int": "INTEGER", "bool": "INTEGER", "time": "INTEGER", "blob": "BLOB"}

    def qualify(self, table: str) -> str:
        return f'"{table}"'

    def encoder(self, kind: str) -> Convert | None:
        return to_micros if kind == "time" else None

    def decoder(self, kind: str) -> Convert | None:
        if kind == "time":
            return from_micros
        if kind == "bool":
            return bool
        if kind == "blob":
            return bytes
        return None

    def rename_table(self, old: str, new: str) -> list[str]:
        # The key's automatic index follows the table.
        return [f"ALTER TABLE {self.qualify(old)} RENAME TO {self.qualify(new)}"]


_statements: dict[str, str] = {}


def _sqlite(statement: str) -> str:
    converted = _statements.get(statement)
    if converted is None:
        converted = _statements[statement] = statement.replace("%s", "?")
    return converted


class _SqliteTx(ViewTx):
    def __init__(self, conn: sqlite3.Connection) -> None:
        super().__init__(DIALECT)
        self._conn = conn

    def query(
        self, statement: str, params: Sequence[Any] = (), *, binary: bool = False
    ) -> list[tuple[Any, ...]]:
        return self._conn.execute(_sqlite(statement), params).fetchall()

    def command(self, statement: str, params: Sequence[Any] = ()) -> None:
        self._conn.execute(_sqlite(statement), params)

    def many(self, statement: str, rows: Iterable[Sequence[Any]]) -> None:
        self._conn.executemany(_sqlite(statement), rows)

    def table_exists(self, table: str) -> bool:
        found = self._conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
        ).fetchall()
        return bool(found)


DIALECT = SqliteDialect()


class SqliteViewTables(ViewTables):
    """Two connections, each behind a lock: one writes (``BEGIN IMMEDIATE`` takes the
    database's write lock, so writers in other processes wait their turn), one reads
    (WAL: a read sees the last commit and never waits for the writer)."""

    dialect = DIALECT

    def __init__(self, path: str) -> None:
        if path == ":memory:" or "mode=memory" in path:
            raise ValueError("the views live beside the events in a database file, not in memory")
        private_sqlite(path)
        self._writer = self._connect(path)
        self._reader = self._connect(path)
        self._write_lock = threading.Lock()
        self._read_lock = threading.Lock()

    @staticmethod
    def _connect(path: str) -> sqlite3.Connection:
        # isolation_level=None: we issue BEGIN/COMMIT ourselves.
        conn = sqlite3.connect(path, timeout=30.0, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode = WAL")  # as the event store sets it
        # Views are derived data, kept with their position in each transaction: a
        # commit lost to a power cut loses both, and the runner applies them again.
        # So no sync at every commit (WAL stays consistent; checkpoints still sync).
        conn.execute("PRAGMA synchronous = NORMAL")
        return conn

    @contextmanager
    def read(self, snapshot: bool = True) -> Iterator[ViewTx]:
        with self._read_lock:
            if not snapshot:
                yield _SqliteTx(self._reader)
                return
            self._reader.execute("BEGIN")
            try:
                yield _SqliteTx(self._reader)
            finally:
                self._reader.execute("COMMIT")

    @contextmanager
    def write(self, bulk: bool = False) -> Iterator[ViewTx]:
        # ``bulk`` changes nothing here: commits already skip the sync (see _connect),
        # and a larger page cache for a rebuild's batches measured no faster.
        with self._write_lock:
            self._writer.execute("BEGIN IMMEDIATE")
            try:
                yield _SqliteTx(self._writer)
            except BaseException:
                self._writer.execute("ROLLBACK")
                raise
            self._writer.execute("COMMIT")

    def close(self) -> None:
        with self._write_lock, self._read_lock:
            self._writer.close()
            self._reader.close()
