"""The test's database read and written with plain SQL, past the application: the
way someone with access to the database (or to a backup) sees it."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit
from uuid import UUID

import psycopg
from eventsourcing.persistence import StoredEvent
from psycopg import sql


def is_sqlite(backend: dict[str, str]) -> bool:
    return backend["PERSISTENCE_MODULE"] == "eventsourcing.sqlite"


def libpq_url(url: str) -> str:
    """A PostgreSQL URL as psycopg takes it: without our ``schema`` parameter (whether
    or not the ``backend`` fixture put it there)."""
    parts = urlsplit(url)
    query = "&".join(q for q in parts.query.split("&") if q and not q.startswith("schema="))
    return urlunsplit(parts._replace(query=query))


@contextmanager
def connect(backend: dict[str, str]) -> Iterator[Any]:
    """A plain autocommit connection to the backend's database."""
    if is_sqlite(backend):
        conn = sqlite3.connect(backend["SQLITE_DBNAME"], isolation_level=None)
        try:
            yield conn
        finally:
            conn.close()
    else:
        with psycopg.connect(libpq_url(backend["RETE_DATABASE_URL"]), autocommit=True) as conn:
            yield conn


def table_of(backend: dict[str, str], name: str) -> Any:
    """A table of the test's database as a statement names it (PostgreSQL: in the schema)."""
    if is_sqlite(backend):
        return name
    return sql.Identifier(backend["RETE_DATABASE_SCHEMA"], name)


def raw_rows(backend: dict[str, str], table: str) -> list[tuple[Any, ...]]:
    """Every row of one of our tables."""
    with connect(backend) as conn:
        if is_sqlite(backend):
            return list(conn.execute(f"SELECT * FROM {table}").fetchall())
        query = sql.SQL("SELECT * FROM {}").format(table_of(backend, table))
        return list(conn.execute(query).fetchall())


@dataclass(frozen=True)
class Row:
    """One stored record as the database holds it."""

    table: str
    key: tuple[Any, ...]  # how to find it again: (originator id as stored, version)
    stream: UUID
    version: int
    topic: str
    state: bytes

    def stored(self) -> StoredEvent:
        return StoredEvent(self.stream, self.version, self.topic, self.state)

    def names_it(self, message: str) -> bool:
        return str(self.stream) in message and f"v{self.version}" in message


class RawDatabase:
    """Plain SQL on the test's database: the events and snapshots tables, and
    every table of the test's PostgreSQL schema."""

    def __init__(self, backend: dict[str, str]) -> None:
        self.backend = backend
        self.sqlite = is_sqlite(backend)
        self.events = "stored_events" if self.sqlite else "rete_events"
        self.snapshots = "stored_snapshots" if self.sqlite else "rete_snapshots"
        self.schema = backend.get("RETE_DATABASE_SCHEMA", "")
        # Notification order: SQLite's rowid, PostgreSQL's notification_id.
        self._order = "rowid" if self.sqlite else "notification_id"

    def connect(self) -> Any:
        return connect(self.backend)

    def _run(self, conn: Any, template: str, params: tuple[Any, ...] = (), **tables: str) -> Any:
        if self.sqlite:
            return conn.execute(template.format(**tables).replace("%s", "?"), params)
        named = {k: table_of(self.backend, v) for k, v in tables.items()}
        return conn.execute(sql.SQL(template).format(**named), params)

    def rows(self, table: str | None = None) -> list[Row]:
        table = table or self.events
        order = self._order if table == self.events else "originator_id, originator_version"
        with self.connect() as conn:
            fetched = self._run(
                conn,
                "SELECT originator_id, originator_version, topic, state FROM {t} ORDER BY " + order,
                t=table,
            ).fetchall()
        return [
            Row(table, (oid, version), UUID(str(oid)), int(version), topic, bytes(state))
            for oid, version, topic, state in fetched
        ]

    def put(self, row: Row, *, state: bytes | None = None, topic: str | None = None) -> None:
        """Overwrite one row's state and/or topic in place."""
        with self.connect() as conn:
            self._run(
                conn,
                "UPDATE {t} SET state = %s, topic = %s "
                "WHERE originator_id = %s AND originator_version = %s",
                (
                    row.state if state is None else state,
                    row.topic if topic is None else topic,
                    *row.key,
                ),
                t=row.table,
            )

    @contextmanager
    def altered(
        self, row: Row, *, state: bytes | None = None, topic: str | None = None
    ) -> Iterator[None]:
        """The row altered for the duration of the block, then restored."""
        self.put(row, state=state, topic=topic)
        try:
            yield
        finally:
            self.put(row)

    def digest(self, table: str | None = None) -> tuple[int, str]:
        """(row count, SHA-256 of every column of every row): the events in notification
        order (their notification id included), snapshots by stream and version."""
        table = table or self.events
        columns = "originator_id, originator_version, topic, state"
        if table == self.events:
            query = f"SELECT {self._order}, {columns} FROM {{t}} ORDER BY {self._order}"
        else:
            query = f"SELECT {columns} FROM {{t}} ORDER BY originator_id, originator_version"
        with self.connect() as conn:
            fetched = self._run(conn, query, t=table).fetchall()
        h = hashlib.sha256()
        for row in fetched:
            for value in row:
                data = as_bytes(value)
                h.update(len(data).to_bytes(8, "big") + data)
        return len(fetched), h.hexdigest()

    def key_rows(self) -> list[tuple[bytes, str, int, int, bytes]]:
        """rete_data_keys: (key_id, scope, generation, kek_version, wrapped)."""
        with self.connect() as conn:
            fetched = self._run(
                conn,
                "SELECT key_id, scope, generation, kek_version, wrapped FROM {t} "
                "ORDER BY scope, generation",
                t="rete_data_keys",
            ).fetchall()
        return [(bytes(k), s, int(g), int(v), bytes(w)) for k, s, g, v, w in fetched]

    def destroyed_scopes(self) -> set[str]:
        with self.connect() as conn:
            fetched = self._run(conn, "SELECT scope FROM {t}", t="rete_destroyed_scopes")
            return {scope for (scope,) in fetched.fetchall()}

    def everything(self) -> list[tuple[str, bytes]]:
        """PostgreSQL: every row of every table of the test's schema, as its text form
        and each column raw (bytea as bytes)."""
        assert not self.sqlite, "on SQLite, scan the files"
        chunks: list[tuple[str, bytes]] = []
        with self.connect() as conn:
            tables = [
                name
                for (name,) in conn.execute(
                    "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
                    (self.schema,),
                ).fetchall()
            ]
            assert {"rete_events", "rete_snapshots", "rete_data_keys"} <= set(tables), tables
            for name in tables:
                query = sql.SQL("SELECT row_to_json(t)::text, t::text, t.* FROM {} t").format(
                    sql.Identifier(self.schema, name)
                )
                for number, row in enumerate(conn.execute(query).fetchall()):
                    chunks += [(f"{name} row {number}", as_bytes(v)) for v in row if v is not None]
        return chunks


def as_bytes(value: Any) -> bytes:
    """A column's value as bytes: bytea as it is, anything else as its UTF-8 text."""
    if isinstance(value, bytes | memoryview):
        return bytes(value)
    return str(value).encode("utf-8")
