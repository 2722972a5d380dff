"""The key store's tables and the statements on them, on either backend."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

from infrastructure.db import Database, Tx

KEYS: Final = "rete_data_keys"
SCOPES: Final = "rete_destroyed_scopes"
GONE: Final = "rete_destroyed_keys"

DDL: Final = (
    """CREATE TABLE IF NOT EXISTS {keys} (
        key_id {blob} PRIMARY KEY CHECK ({length}(key_id) = 16),
        scope TEXT NOT NULL,
        generation INTEGER NOT NULL CHECK (generation >= 1),
        created_at {time} NOT NULL,
        kek_version INTEGER NOT NULL,
        wrapped {blob} NOT NULL)""",
    # The index on scope: "newest key of a scope" and "every key of a scope" use it,
    # and its uniqueness is what makes racing creators agree on one key.
    "CREATE UNIQUE INDEX IF NOT EXISTS rete_data_keys_scope ON {keys} (scope, generation)",
    """CREATE TABLE IF NOT EXISTS {scopes} (
        scope TEXT PRIMARY KEY,
        destroyed_at {time} NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS {gone} (
        key_id {blob} PRIMARY KEY,
        scope TEXT NOT NULL,
        destroyed_at {time} NOT NULL)""",
)
_COLUMNS: Final = "key_id, scope, generation, kek_version, wrapped"


@dataclass(frozen=True, slots=True)
class KeyRow:
    """One data key as stored: wrapped under KEK ``kek_version``."""

    key_id: bytes
    scope: str
    generation: int
    kek_version: int
    wrapped: bytes = field(repr=False)


def _row(values: tuple[Any, ...]) -> KeyRow:
    key_id, scope, generation, kek_version, wrapped = values
    return KeyRow(bytes(key_id), str(scope), int(generation), int(kek_version), bytes(wrapped))


class KeyTx:
    """The statements of the key store, run in one transaction (or connection)."""

    def __init__(self, tx: Tx) -> None:
        self._tx = tx
        q = tx.dialect.qualify
        self._n = {"keys": q(KEYS), "scopes": q(SCOPES), "gone": q(GONE)}

    def _sql(self, template: str) -> str:
        return template.format(**self._n)

    def newest(self, scope: str) -> KeyRow | None:
        rows = self._tx.query(
            self._sql(
                f"SELECT {_COLUMNS} FROM {{keys}} WHERE scope = %s ORDER BY generation DESC LIMIT 1"
            ),
            (scope,),
        )
        return _row(rows[0]) if rows else None

    def by_id(self, key_id: bytes) -> KeyRow | None:
        rows = self._tx.query(
            self._sql(f"SELECT {_COLUMNS} FROM {{keys}} WHERE key_id = %s"), (key_id,)
        )
        return _row(rows[0]) if rows else None

    def all_rows(self) -> list[KeyRow]:
        rows = self._tx.query(
            self._sql(f"SELECT {_COLUMNS} FROM {{keys}} ORDER BY scope, generation")
        )
        return [_row(r) for r in rows]

    def key_destroyed(self, key_id: bytes) -> bool:
        return bool(self._tx.query(self._sql("SELECT 1 FROM {gone} WHERE key_id = %s"), (key_id,)))

    def scope_destroyed(self, scope: str) -> bool:
        return bool(self._tx.query(self._sql("SELECT 1 FROM {scopes} WHERE scope = %s"), (scope,)))

    def insert(self, row: KeyRow) -> bool:
        """Add a key; False (and nothing written) when its generation is taken."""
        inserted = self._tx.command(
            self._sql(
                f"INSERT INTO {{keys}} ({_COLUMNS}, created_at) VALUES (%s, %s, %s, %s, %s, %s) "
                "ON CONFLICT (scope, generation) DO NOTHING"
            ),
            (row.key_id, row.scope, row.generation, row.kek_version, row.wrapped, self._now()),
        )
        return inserted == 1

    def destroy(self, scope: str) -> int:
        """Delete every key of a scope, remember their ids and the scope; the count."""
        now = self._now()
        self._tx.command(
            self._sql(
                "INSERT INTO {gone} (key_id, scope, destroyed_at) "
                "SELECT key_id, scope, %s FROM {keys} WHERE scope = %s"
            ),
            (now, scope),
        )
        count = self._tx.command(self._sql("DELETE FROM {keys} WHERE scope = %s"), (scope,))
        self._tx.command(
            self._sql(
                "INSERT INTO {scopes} (scope, destroyed_at) VALUES (%s, %s) "
                "ON CONFLICT (scope) DO NOTHING"
            ),
            (scope, now),
        )
        return count

    def rewrap(self, key_id: bytes, kek_version: int, wrapped: bytes) -> None:
        self._tx.command(
            self._sql("UPDATE {keys} SET kek_version = %s, wrapped = %s WHERE key_id = %s"),
            (kek_version, wrapped, key_id),
        )

    def kek_versions(self) -> dict[int, int]:
        rows = self._tx.query(
            self._sql("SELECT kek_version, COUNT(*) FROM {keys} GROUP BY kek_version")
        )
        return {int(version): int(count) for version, count in rows}

    def _now(self) -> Any:
        return self._tx.dialect.encode("stamp", datetime.now(UTC))


class KeyTables:
    """The key store's tables in ``database`` (created if missing)."""

    def __init__(self, database: Database, *, owned: bool = False) -> None:
        self.database = database
        self._owned = owned  # close() closes the database too
        # The lock keeps two starting processes' DDL apart.
        with database.write("-- ddl --") as tx:
            # The key store is the first to open the database: it creates the schema
            # named in RETE_DATABASE_URL (PostgreSQL), for the events and views too.
            for statement in tx.dialect.create_schema():
                tx.command(statement)
            types = tx.dialect.types
            for statement in DDL:
                tx.command(
                    statement.format(
                        keys=tx.dialect.qualify(KEYS),
                        scopes=tx.dialect.qualify(SCOPES),
                        gone=tx.dialect.qualify(GONE),
                        blob=types["blob"],
                        time=types["stamp"],
                        length=tx.dialect.length,
                    )
                )

    @contextmanager
    def read(self) -> Iterator[KeyTx]:
        """Statements outside any explicit transaction (each sees the latest commit)."""
        with self.database.read() as tx:
            yield KeyTx(tx)

    @contextmanager
    def write(self, scope: str | None) -> Iterator[KeyTx]:
        """One transaction, serialised with every other write to ``scope``
        (``None``: with every write at all). Deleted rows are overwritten where the
        backend can."""
        with self.database.write(scope, scrub=True) as tx:
            if scope is None:
                tx.lock_table(KEYS)
            yield KeyTx(tx)

    def after_destroy(self) -> None:
        """Best-effort scrubbing of deleted rows, where the backend allows it."""
        self.database.scrub_log()

    def close(self) -> None:
        if self._owned:
            self.database.close()
