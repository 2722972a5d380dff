"""Statements on one connection: one transaction type per backend.

Every table beside the events (the key store's, the views', the ledger's) runs its
statements through a ``Tx``: rows come back as plain tuples, ``%s`` is the
placeholder on both backends, and ``command`` returns the rows it changed.
"""

from __future__ import annotations

import sqlite3
from abc import ABC, abstractmethod
from collections.abc import Hashable, Iterable, Sequence
from typing import Any, Final

import psycopg
from psycopg.rows import tuple_row
from psycopg.types.string import BytesBinaryDumper

from infrastructure.db.dialect import SQLITE, Dialect, PostgresDialect

Row = tuple[Any, ...]


class Tx(ABC):
    """Statements on one connection (and, inside ``Database.write``, one transaction)."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect

    def query(
        self,
        statement: str,
        params: Sequence[Any] = (),
        *,
        binary: bool = False,
        prepare: bool | None = None,
    ) -> list[Row]:
        """The rows. ``binary``: in the backend's binary format where it has one (no
        text to parse, but each column must be of a type it loads as Python wants);
        ``prepare``: prepared at once on PostgreSQL (None: after a few uses)."""
        return self._fetch(statement, params, binary, prepare)

    def _fetch(
        self, statement: str, params: Sequence[Any], binary: bool, prepare: bool | None
    ) -> list[Row]:
        """``query`` on the backend (a wrapper may override ``query`` instead)."""
        raise NotImplementedError

    @abstractmethod
    def command(self, statement: str, params: Sequence[Any] = ()) -> int:
        """Run one statement; how many rows it changed."""

    @abstractmethod
    def many(self, statement: str, rows: Iterable[Sequence[Any]]) -> None:
        """Run one statement for each of ``rows``. Inside a write transaction it may
        be sent only with the transaction's next statement or its commit (one round
        trip for all): an error in it then fails that statement, or the commit, and
        the transaction is rolled back all the same."""

    def ahead(self, statement: str, params: Sequence[Any] = (), *, binary: bool = False) -> None:
        """A query the caller will make next in this transaction, sent with the
        transaction's next statement where the backend can (one round trip for
        both); the ``query`` with the same statement and parameters then answers at
        once, as the database stood when it was sent: the caller writes nothing
        between asking ahead and reading the answer (a ``runner`` step asks for the
        records it reads next, with its positions). (Nothing happens here on a
        backend without round trips.)"""
        return None

    def later(self, statement: str, params: Sequence[Any] = ()) -> None:
        """Run one statement whose count nobody needs, as ``many`` may run its rows:
        with the transaction's next statement or its commit."""
        self.many(statement, [params])

    def commands(self, statements: Sequence[str]) -> None:
        """Run statements without parameters (DDL), in order, in one round trip
        where the backend can."""
        for statement in statements:
            self.command(statement)

    @abstractmethod
    def table_exists(self, table: str) -> bool: ...

    def lock_table(self, table: str) -> None:
        """Keep other writers of ``table`` out until this transaction ends."""
        raise NotImplementedError

    def insert_rows(
        self, insert: str, table: str, columns: Sequence[str], kinds: Sequence[str], rows: list[Any]
    ) -> None:
        """Plain inserts of many rows (``insert`` is the statement for one; ``table``
        is qualified; ``kinds`` the columns' kinds): a backend may load them faster."""
        self.many(insert, rows)


_statements: dict[str, str] = {}


def _sqlite(statement: str) -> str:
    converted = _statements.get(statement)
    if converted is None:
        converted = _statements[statement] = statement.replace("%s", "?")
    return converted


class SqliteTx(Tx):
    def __init__(self, cursor: sqlite3.Cursor) -> None:
        super().__init__(SQLITE)
        # The event store's connections make sqlite3.Row rows; this cursor gives
        # tuples, as PostgreSQL's side does.
        cursor.row_factory = None
        self.cursor = cursor

    def _fetch(
        self, statement: str, params: Sequence[Any], binary: bool, prepare: bool | None
    ) -> list[Row]:
        return self.cursor.execute(_sqlite(statement), params).fetchall()

    def command(self, statement: str, params: Sequence[Any] = ()) -> int:
        return self.cursor.execute(_sqlite(statement), params).rowcount

    def many(self, statement: str, rows: Iterable[Sequence[Any]]) -> None:
        self.cursor.executemany(_sqlite(statement), rows)

    def table_exists(self, table: str) -> bool:
        found = self.cursor.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
        ).fetchall()
        return bool(found)

    def lock_table(self, table: str) -> None:
        # A write transaction (BEGIN IMMEDIATE) already holds the database's write lock.
        pass


# Parameters a first statement may carry to be sent with its transaction's opening.
_LITERALS: Final = frozenset({str, int, bool, type(None)})

# Up to this many rows, plain inserts cost less than a COPY's extra round trip.
_FEW_ROWS: Final = 16

_COPY_TYPES: Final = {
    "text": "text",
    "int": "int8",
    "bool": "bool",
    "time": "timestamptz",
    "stamp": "timestamptz",
    "blob": "bytea",
}


def _asked(statement: str, params: Sequence[Any], binary: bool) -> Hashable:
    """A query as ``ahead`` keeps its answer: its statement, parameters and format
    (a list parameter, such as an array of topics, as a tuple)."""
    values = tuple(tuple(p) if isinstance(p, list) else p for p in params)
    return (statement, values, binary)


class PostgresTx(Tx):
    def __init__(
        self,
        conn: psycopg.Connection[Any],
        dialect: PostgresDialect,
        opening: tuple[bytes, ...] | None = None,
        *,
        defer: bool = False,
    ) -> None:
        """``opening``: the statements that open the transaction, sent with the first
        statement: in one simple query when that one takes no parameters or only
        plain ones, in one pipeline when queries were sent ``ahead``, else alone
        just before it; not at all if none comes. ``defer``: inside a transaction
        that ends with ``commit``, statements without results (``many``, ``later``)
        wait and go in one pipeline with the next statement, or with the
        ``COMMIT``: a catch-up's rows, its positions and its commit are one round
        trip instead of one each."""
        super().__init__(dialect)
        self._conn = conn
        self._opening = opening
        self._defer = defer
        self._queued: list[tuple[str, list[Sequence[Any]]]] = []
        self._ahead: list[tuple[Hashable, str, Sequence[Any], bool]] = []
        self._answered: dict[Hashable, list[Row]] = {}  # queries sent ahead, answered
        self.begun = False  # the opening was sent

    def begin(self) -> None:
        """Send the opening now if it has not been sent, and whatever is queued (or
        asked ahead): a caller about to use the connection itself (a named cursor)
        finds the transaction as its statements left it."""
        self._open()
        if self._queued or self._ahead:
            self._send("SELECT 1", ()).close()

    def _open(self) -> None:
        """Send the opening now, if it has not been sent."""
        opening, self._opening = self._opening, None
        if opening is not None:
            self.begun = True
            self._conn.execute(b"; ".join(opening))

    def ahead(self, statement: str, params: Sequence[Any] = (), *, binary: bool = False) -> None:
        self._ahead.append((_asked(statement, params, binary), statement, params, binary))

    def _fetch(
        self, statement: str, params: Sequence[Any], binary: bool, prepare: bool | None
    ) -> list[Row]:
        if self._answered:
            found = self._answered.pop(_asked(statement, params, binary), None)
            if found is not None:
                return found
        opening = self._opening
        if (
            opening is not None
            and not self._ahead
            and not binary
            and all(type(p) in _LITERALS for p in params)
        ):
            # One simple query, the opening's statements then this one, its few plain
            # parameters bound here (psycopg's client-side binding quotes them): its
            # rows are the last result. Never prepared: a prepared statement is one.
            # (Nothing is queued yet: a statement queued sent the opening first.)
            self._opening, self.begun = None, True
            with psycopg.ClientCursor(self._conn, row_factory=tuple_row) as cursor:
                joined = b"; ".join(opening).decode().replace("%", "%%") + "; " + statement
                cursor.execute(joined, tuple(params), prepare=False)
                while cursor.nextset():
                    pass
                return cursor.fetchall()
        with self._send(statement, params, binary=binary, prepare=prepare) as cursor:
            return cursor.fetchall()

    def command(self, statement: str, params: Sequence[Any] = ()) -> int:
        with self._send(statement, params) as cursor:
            return cursor.rowcount

    def many(self, statement: str, rows: Iterable[Sequence[Any]]) -> None:
        self._open()
        if self._defer:
            self._queued.append((statement, list(rows)))
            return
        with self._conn.cursor(row_factory=tuple_row) as cursor:
            cursor.executemany(statement, list(rows))

    def commands(self, statements: Sequence[str]) -> None:
        # One simple query (several statements, no parameters), after what waits:
        # never in a pipeline, where a DROP makes psycopg forget the statements it
        # prepared while the pipeline still names them.
        if statements:
            self.begin()
            self._conn.execute("; ".join(statements).encode())

    def commit(self) -> None:
        """End the transaction: what is queued, then ``COMMIT``, in one round trip."""
        self._send("COMMIT", ()).close()

    def discard(self) -> None:
        """Forget what is queued (the transaction is being rolled back)."""
        self._queued.clear()
        self._ahead.clear()

    def _send(
        self,
        statement: str,
        params: Sequence[Any],
        *,
        binary: bool = False,
        prepare: bool | None = None,
    ) -> psycopg.Cursor[Row]:
        """A cursor that ran ``statement`` after the opening if it was not sent, what
        is queued and what was sent ahead: alone when none of them waits, else in
        one pipeline with them (one sync, one round trip). A queued statement that
        fails raises here; the caller's transaction is rolled back as if it had
        failed when it was queued."""
        if not self._ahead:
            self._open()  # alone, or (a statement queued sent it) already sent
        opening, self._opening = self._opening, None
        queued, self._queued = self._queued, []
        ahead, self._ahead = self._ahead, []
        # The event store's connections make dicts; statements here want tuples.
        cursor = self._conn.cursor(binary=binary, row_factory=tuple_row)
        answers: list[tuple[Hashable, psycopg.Cursor[Row]]] = []
        try:
            if not queued and not ahead:
                cursor.execute(statement, params, prepare=prepare)
                return cursor
            with self._conn.pipeline():
                if opening is not None:
                    self.begun = True
                    for part in opening:
                        self._conn.execute(part)
                self._run(queued)
                for asked, query, values, in_binary in ahead:
                    answer = self._conn.cursor(binary=in_binary, row_factory=tuple_row)
                    answers.append((asked, answer))
                    answer.execute(query, values)
                cursor.execute(statement, params, prepare=prepare)
            for asked, answer in answers:
                self._answered[asked] = answer.fetchall()
            return cursor
        except BaseException:
            cursor.close()
            raise
        finally:
            for _, answer in answers:
                answer.close()

    def _flush(self) -> None:
        """Send what is queued, in one pipeline."""
        queued, self._queued = self._queued, []
        if queued:
            with self._conn.pipeline():
                self._run(queued)

    def _run(self, queued: list[tuple[str, list[Sequence[Any]]]]) -> None:
        for statement, rows in queued:
            with self._conn.cursor() as cursor:  # rides the pipeline: no sync of its own
                cursor.executemany(statement, rows)

    def insert_rows(
        self, insert: str, table: str, columns: Sequence[str], kinds: Sequence[str], rows: list[Any]
    ) -> None:
        if len(rows) <= _FEW_ROWS:
            # A catch-up's few rows: pipelined INSERTs, one round trip (a COPY takes two).
            self.many(insert, rows)
            return
        # Binary COPY: several times faster than batched INSERTs for a rebuild's bulk
        # load, and as strict (a duplicate key fails the transaction). What is queued
        # goes first (a COPY cannot join a pipeline).
        self._open()
        self._flush()
        statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)"
        with self._conn.cursor() as cursor:
            # A bytea column's values as they are, by psycopg's own (compiled) dumper:
            # the one found by type otherwise, DB-API's, is Python, a call per value.
            cursor.adapters.register_dumper(bytes, BytesBinaryDumper)
            with cursor.copy(statement) as copy:
                copy.set_types([_COPY_TYPES[kind] for kind in kinds])
                for row in rows:
                    copy.write_row(row)

    def table_exists(self, table: str) -> bool:
        found = self.query("SELECT to_regclass(%s) IS NOT NULL", (self.dialect.qualify(table),))
        return bool(found and found[0][0])

    def lock_table(self, table: str) -> None:
        # Blocks inserts, deletes and updates by others until we commit.
        self.command(f"LOCK TABLE {self.dialect.qualify(table)} IN SHARE ROW EXCLUSIVE MODE")
