"""The views' tables on PostgreSQL, in the events' schema, through psycopg and a pool."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, Final

import psycopg
from psycopg import sql
from psycopg_pool import ConnectionPool

from infrastructure.views.db.base import Convert, Dialect, ViewTables, ViewTx

# Advisory lock namespace ("RETE" as an int4, as the key store and the ledger use);
# the second key names the views of one schema.
_LOCK_NAMESPACE: Final = 0x52455445


_COPY_TYPES: Final = {
    "text": "text",
    "int": "int8",
    "bool": "bool",
    "time": "timestamptz",
    "blob": "bytea",
}


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


class PostgresDialect(Dialect):
    name = "postgres"
    types = {
        "text": "TEXT",
        "int": "BIGINT",
        "bool": "BOOLEAN",
        "time": "TIMESTAMPTZ",
        "blob": "BYTEA",
    }

    def __init__(self, schema: str) -> None:
        self.schema = schema

    def qualify(self, table: str) -> str:
        return sql.Identifier(self.schema, table).as_string()

    def encoder(self, kind: str) -> Convert | None:
        return None

    def decoder(self, kind: str) -> Convert | None:
        if kind == "time":
            return _utc
        if kind == "blob":
            return bytes
        return None

    def rename_table(self, old: str, new: str) -> list[str]:
        # The key's index is named after the table it was created with.
        return [
            f"ALTER TABLE {self.qualify(old)} RENAME TO {sql.Identifier(new).as_string()}",
            f"ALTER INDEX {self.qualify(old + '_pkey')} "
            f"RENAME TO {sql.Identifier(new + '_pkey').as_string()}",
        ]


class _PostgresTx(ViewTx):
    def __init__(self, conn: psycopg.Connection[Any], dialect: PostgresDialect) -> None:
        super().__init__(dialect)
        self._conn = conn
        self._schema = dialect.schema

    def query(
        self, statement: str, params: Sequence[Any] = (), *, binary: bool = False
    ) -> list[tuple[Any, ...]]:
        with self._conn.cursor(binary=binary) as cursor:
            cursor.execute(statement, params)
            return list(cursor.fetchall())

    def command(self, statement: str, params: Sequence[Any] = ()) -> None:
        with self._conn.cursor() as cursor:
            cursor.execute(statement, params)

    def many(self, statement: str, rows: Iterable[Sequence[Any]]) -> None:
        with self._conn.cursor() as cursor:
            cursor.executemany(statement, list(rows))

    def insert_rows(
        self, insert: str, table: str, columns: Sequence[str], kinds: Sequence[str], rows: list[Any]
    ) -> None:
        # Binary COPY: several times faster than batched INSERTs for a rebuild's bulk
        # load, and as strict (a duplicate key fails the transaction).
        statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)"
        with self._conn.cursor() as cursor, cursor.copy(statement) as copy:
            copy.set_types([_COPY_TYPES[kind] for kind in kinds])
            for row in rows:
                copy.write_row(row)

    def table_exists(self, table: str) -> bool:
        found = self.query("SELECT to_regclass(%s) IS NOT NULL", (self.dialect.qualify(table),))
        return bool(found and found[0][0])


class PostgresViewTables(ViewTables):
    """A small pool (as the key store and the ledger have). Writers serialise on a
    transaction-scoped advisory lock; readers take a repeatable-read snapshot."""

    def __init__(self, conninfo: str, schema: str) -> None:
        self._dialect = PostgresDialect(schema)
        self.dialect = self._dialect
        self._lock_key = f"rete views {schema}"
        self._pool: ConnectionPool[psycopg.Connection[Any]] = ConnectionPool(
            conninfo,
            min_size=1,
            max_size=8,
            num_workers=1,
            timeout=10.0,
            kwargs={"autocommit": True, "connect_timeout": 5},
            open=True,
        )

    @contextmanager
    def read(self, snapshot: bool = True) -> Iterator[ViewTx]:
        with self._pool.connection() as conn:
            if not snapshot:
                yield _PostgresTx(conn, self._dialect)
                return
            with conn.transaction():
                conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                yield _PostgresTx(conn, self._dialect)

    @contextmanager
    def write(self, bulk: bool = False) -> Iterator[ViewTx]:
        with self._pool.connection() as conn, conn.transaction():
            conn.execute(
                "SELECT pg_advisory_xact_lock(%s::int4, hashtext(%s))",
                (_LOCK_NAMESPACE, self._lock_key),
            )
            if bulk:
                # A rebuild's batch need not wait for its WAL to reach the disk: a
                # crash loses the last batches whole, rows and position together, and
                # the next rebuild starts over (the swap's commit is synchronous).
                conn.execute("SET LOCAL synchronous_commit = off")
            yield _PostgresTx(conn, self._dialect)

    def close(self) -> None:
        self._pool.close()
