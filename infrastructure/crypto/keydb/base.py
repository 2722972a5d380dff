"""The key store's tables and the statements on them, on either backend."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

from infrastructure.db import Database, Tx
from infrastructure.db.database import Durability

KEYS: Final = "rete_data_keys"
SCOPES: Final = "rete_destroyed_scopes"
GONE: Final = "rete_destroyed_keys"
ERASURES: Final = "rete_erasures"

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
    # One row per erased scope: when, under which KEK versions its keys were ever
    # wrapped (all versions up to kek_version), and when each copy stopped opening.
    """CREATE TABLE IF NOT EXISTS {erasures} (
        scope TEXT PRIMARY KEY,
        erased_at {time} NOT NULL,
        kek_version INTEGER,
        log_folded_at {time},
        kek_retired_at {time},
        completed_at {time})""",
)
_COLUMNS: Final = "key_id, scope, generation, kek_version, wrapped"
_ERASURE_COLUMNS: Final = (
    "scope, erased_at, kek_version, log_folded_at, kek_retired_at, completed_at"
)


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


@dataclass(frozen=True, slots=True)
class ErasureRow:
    """One erased scope and how far its erasure got (times in UTC; None: not yet).

    ``kek_version``: every KEK version up to it may have wrapped a copy of the
    destroyed keys (None: the scope never had a key)."""

    scope: str
    erased_at: datetime
    kek_version: int | None
    log_folded_at: datetime | None
    kek_retired_at: datetime | None
    completed_at: datetime | None


class KeyTx:
    """The statements of the key store, run in one transaction (or connection)."""

    def __init__(self, tx: Tx) -> None:
        self._tx = tx
        q = tx.dialect.qualify
        self._n = {
            "keys": q(KEYS),
            "scopes": q(SCOPES),
            "gone": q(GONE),
            "erasures": q(ERASURES),
        }

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

    def by_ids(self, key_ids: Sequence[bytes]) -> list[KeyRow]:
        """The rows of those of ``key_ids`` that exist, in any order (one statement)."""
        if not key_ids:
            return []
        among = ", ".join(["%s"] * len(key_ids))
        rows = self._tx.query(
            self._sql(f"SELECT {_COLUMNS} FROM {{keys}} WHERE key_id IN ({among})"),
            tuple(key_ids),
        )
        return [_row(r) for r in rows]

    def all_rows(self) -> list[KeyRow]:
        rows = self._tx.query(
            self._sql(f"SELECT {_COLUMNS} FROM {{keys}} ORDER BY scope, generation")
        )
        return [_row(r) for r in rows]

    def key_destroyed(self, key_id: bytes) -> bool:
        return bool(self._tx.query(self._sql("SELECT 1 FROM {gone} WHERE key_id = %s"), (key_id,)))

    def scope_destroyed(self, scope: str) -> bool:
        return bool(self._tx.query(self._sql("SELECT 1 FROM {scopes} WHERE scope = %s"), (scope,)))

    def standing(self, scope: str) -> tuple[bool, KeyRow | None]:
        """Whether ``scope`` was destroyed, and its newest key: one statement (inside
        a write transaction, the one that opens it)."""
        rows = self._tx.query(
            self._sql(
                "SELECT EXISTS (SELECT 1 FROM {scopes} WHERE scope = %s), k.* FROM "
                f"(SELECT 1 AS one) o LEFT JOIN (SELECT {_COLUMNS} FROM {{keys}} "
                "WHERE scope = %s ORDER BY generation DESC LIMIT 1) k ON TRUE"
            ),
            (scope, scope),
        )
        destroyed, *newest = rows[0]
        return bool(destroyed), None if newest[0] is None else _row(tuple(newest))

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

    def destroy(self, scope: str, newest_kek: int) -> int:
        """Delete every key of a scope, remember their ids and the scope, and record
        the erasure (pending); the count. ``newest_kek``: the newest KEK version held
        now (a copy of these keys may be wrapped under any version up to it)."""
        now = self._now()
        (wrapped_under,) = self._tx.query(
            self._sql("SELECT MAX(kek_version) FROM {keys} WHERE scope = %s"), (scope,)
        )[0]
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
        kek_version = None if wrapped_under is None else max(int(wrapped_under), newest_kek)
        self._tx.command(
            self._sql(
                "INSERT INTO {erasures} (scope, erased_at, kek_version) VALUES (%s, %s, %s) "
                "ON CONFLICT (scope) DO NOTHING"
            ),
            (scope, now, kek_version),
        )
        return count

    # -- erasures and how far they got ------------------------------------------------

    def erasures(self) -> list[ErasureRow]:
        rows = self._tx.query(
            self._sql(f"SELECT {_ERASURE_COLUMNS} FROM {{erasures}} ORDER BY erased_at, scope")
        )
        stamp = self._stamp
        return [
            ErasureRow(
                str(scope),
                stamp(erased),
                None if version is None else int(version),
                stamp(folded),
                stamp(retired),
                stamp(completed),
            )
            for scope, erased, version, folded, retired, completed in rows
        ]

    def record_erasures_before(self, newest_kek: int) -> int:
        """Scopes destroyed before erasures were recorded get a pending erasure, every
        KEK version held now counted as one that may have wrapped them."""
        return self._tx.command(
            self._sql(
                "INSERT INTO {erasures} (scope, erased_at, kek_version) "
                "SELECT scope, destroyed_at, %s FROM {scopes} "
                "WHERE scope NOT IN (SELECT scope FROM {erasures}) "
                "ON CONFLICT (scope) DO NOTHING"
            ),
            (newest_kek,),
        )

    def mark_log_folded(self, before: datetime, at: datetime) -> None:
        """The log was folded and emptied, by a fold that began at ``before``."""
        self._tx.command(
            self._sql(
                "UPDATE {erasures} SET log_folded_at = %s "
                "WHERE log_folded_at IS NULL AND erased_at < %s"
            ),
            (self._encode(at), self._encode(before)),
        )

    def mark_kek_retired(self, oldest_held: int, at: datetime) -> None:
        """Every KEK version older than ``oldest_held`` is gone from the keyring."""
        self._tx.command(
            self._sql(
                "UPDATE {erasures} SET kek_retired_at = %s WHERE kek_retired_at IS NULL "
                "AND (kek_version IS NULL OR kek_version < %s)"
            ),
            (self._encode(at), oldest_held),
        )

    def mark_completed(self, at: datetime, *, log_counts: bool) -> None:
        log = "log_folded_at IS NOT NULL" if log_counts else "1 = 1"
        self._tx.command(
            self._sql(
                "UPDATE {erasures} SET completed_at = %s WHERE completed_at IS NULL "
                f"AND kek_retired_at IS NOT NULL AND {log}"
            ),
            (self._encode(at),),
        )

    def keys_not_under(self, kek_version: int) -> int:
        ((count,),) = self._tx.query(
            self._sql("SELECT COUNT(*) FROM {keys} WHERE kek_version <> %s"), (kek_version,)
        )
        return int(count)

    def rewrap(self, key_id: bytes, kek_version: int, wrapped: bytes) -> None:
        self._tx.command(
            self._sql("UPDATE {keys} SET kek_version = %s, wrapped = %s WHERE key_id = %s"),
            (kek_version, wrapped, key_id),
        )

    def one_per_kek_version(self) -> list[KeyRow]:
        """One data key wrapped under each KEK version in use (a statement a version:
        there are a few)."""
        one = self._sql(f"SELECT {_COLUMNS} FROM {{keys}} WHERE kek_version = %s LIMIT 1")
        return [_row(self._tx.query(one, (version,))[0]) for version in sorted(self.kek_versions())]

    def kek_versions(self) -> dict[int, int]:
        rows = self._tx.query(
            self._sql("SELECT kek_version, COUNT(*) FROM {keys} GROUP BY kek_version")
        )
        return {int(version): int(count) for version, count in rows}

    def _now(self) -> Any:
        return self._encode(datetime.now(UTC))

    def _encode(self, moment: datetime) -> Any:
        return self._tx.dialect.encode("stamp", moment)

    def _stamp(self, value: Any) -> Any:
        return None if value is None else self._tx.dialect.decode("stamp", value)


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
                        erasures=tx.dialect.qualify(ERASURES),
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
    def write(self, scope: str | None, *, durability: Durability = "full") -> Iterator[KeyTx]:
        """One transaction, serialised with every other write to ``scope``
        (``None``: with every write at all). Deleted rows are overwritten where the
        backend can. ``durability``: ``Database.write``'s."""
        with self.database.write(scope, durability=durability, scrub=True) as tx:
            if scope is None:
                tx.lock_table(KEYS)
            yield KeyTx(tx)

    def fold_log(self) -> bool | None:
        """Fold the write-ahead log into the database and empty it, not waiting for
        readers; whether that worked (None: this backend's log cannot be folded)."""
        return self.database.scrub_log()

    @property
    def log_counts(self) -> bool:
        """Whether this backend's log can be folded, so an erasure waits for it."""
        return self.database.dialect.name == "sqlite"

    def close(self) -> None:
        if self._owned:
            self.database.close()
