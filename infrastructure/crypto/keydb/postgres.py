"""The key store's tables on PostgreSQL, through psycopg and a small pool."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, Final

import psycopg
from psycopg import sql
from psycopg_pool import ConnectionPool

from infrastructure.crypto.keydb.base import DDL, GONE, KEYS, SCOPES, KeyTables, KeyTx

# Advisory lock namespace ("RETE" as an int4); the second key is hashtext(scope).
_LOCK_NAMESPACE: Final = 0x52455445


class _PostgresTx(KeyTx):
    def __init__(self, conn: psycopg.Connection[Any], names: dict[str, str]) -> None:
        super().__init__(names)
        self._conn = conn

    def _query(self, statement: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        with self._conn.cursor() as cursor:
            cursor.execute(statement, params)
            return list(cursor.fetchall())

    def _command(self, statement: str, params: tuple[Any, ...]) -> int:
        with self._conn.cursor() as cursor:
            cursor.execute(statement, params)
            return cursor.rowcount

    def _time(self, moment: datetime) -> Any:
        return moment


class PostgresKeyTables(KeyTables):
    """A small connection pool (psycopg_pool, as the event store uses); the tables
    live in ``schema`` beside the events."""

    def __init__(self, conninfo: str, schema: str) -> None:
        self._names = {
            name: sql.Identifier(schema, table).as_string()
            for name, table in (("keys", KEYS), ("scopes", SCOPES), ("gone", GONE))
        }
        self._pool: ConnectionPool[psycopg.Connection[Any]] = ConnectionPool(
            conninfo,
            min_size=1,
            max_size=4,
            num_workers=1,
            timeout=10.0,
            kwargs={"autocommit": True, "connect_timeout": 5},
            open=True,
        )
        try:
            with self.write("-- ddl --") as tx:
                # The key store is the first to open the database: it creates the
                # schema named in RETE_DATABASE_URL, for the events and views too.
                tx._command(
                    sql.SQL("CREATE SCHEMA IF NOT EXISTS {}")
                    .format(sql.Identifier(schema))
                    .as_string(),
                    (),
                )
                for statement in DDL:
                    tx._command(
                        statement.format(
                            **self._names, blob="BYTEA", time="TIMESTAMPTZ", length="octet_length"
                        ),
                        (),
                    )
        except BaseException:
            self._pool.close()
            raise

    @contextmanager
    def read(self) -> Iterator[KeyTx]:
        with self._pool.connection() as conn:
            yield _PostgresTx(conn, self._names)

    @contextmanager
    def write(self, scope: str | None) -> Iterator[KeyTx]:
        with self._pool.connection() as conn, conn.transaction():
            if scope is None:
                # Blocks inserts, deletes and updates by others until we commit.
                conn.execute(
                    sql.SQL("LOCK TABLE {} IN SHARE ROW EXCLUSIVE MODE").format(
                        sql.SQL(self._names["keys"])
                    )
                )
            else:
                conn.execute(
                    "SELECT pg_advisory_xact_lock(%s::int4, hashtext(%s))",
                    (_LOCK_NAMESPACE, scope),
                )
            yield _PostgresTx(conn, self._names)

    def after_destroy(self) -> None:
        # Nothing to do from here: VACUUM does not zero freed space, and the WAL
        # and backups keep old pages anyway. Those copies are wrapped; rotating the
        # KEK and retiring the old version is what makes them useless (docs).
        pass

    def close(self) -> None:
        self._pool.close()
