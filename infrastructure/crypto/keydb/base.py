"""What both backends share: the tables' definitions and the statements on them."""

from __future__ import annotations

from abc import ABC, abstractmethod
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

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


class KeyTx(ABC):
    """The statements of the key store, run in one connection (and transaction)."""

    def __init__(self, names: dict[str, str]) -> None:
        self._n = names

    @abstractmethod
    def _query(self, statement: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]: ...

    @abstractmethod
    def _command(self, statement: str, params: tuple[Any, ...]) -> int: ...

    @abstractmethod
    def _time(self, moment: datetime) -> Any: ...

    def _sql(self, template: str) -> str:
        return template.format(**self._n)

    def newest(self, scope: str) -> KeyRow | None:
        rows = self._query(
            self._sql(
                f"SELECT {_COLUMNS} FROM {{keys}} WHERE scope = %s ORDER BY generation DESC LIMIT 1"
            ),
            (scope,),
        )
        return _row(rows[0]) if rows else None

    def by_id(self, key_id: bytes) -> KeyRow | None:
        rows = self._query(
            self._sql(f"SELECT {_COLUMNS} FROM {{keys}} WHERE key_id = %s"), (key_id,)
        )
        return _row(rows[0]) if rows else None

    def all_rows(self) -> list[KeyRow]:
        rows = self._query(
            self._sql(f"SELECT {_COLUMNS} FROM {{keys}} ORDER BY scope, generation"), ()
        )
        return [_row(r) for r in rows]

    def key_destroyed(self, key_id: bytes) -> bool:
        return bool(self._query(self._sql("SELECT 1 FROM {gone} WHERE key_id = %s"), (key_id,)))

    def scope_destroyed(self, scope: str) -> bool:
        return bool(self._query(self._sql("SELECT 1 FROM {scopes} WHERE scope = %s"), (scope,)))

    def insert(self, row: KeyRow) -> bool:
        """Add a key; False (and nothing written) when its generation is taken."""
        inserted = self._command(
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
        self._command(
            self._sql(
                "INSERT INTO {gone} (key_id, scope, destroyed_at) "
                "SELECT key_id, scope, %s FROM {keys} WHERE scope = %s"
            ),
            (now, scope),
        )
        count = self._command(self._sql("DELETE FROM {keys} WHERE scope = %s"), (scope,))
        self._command(
            self._sql(
                "INSERT INTO {scopes} (scope, destroyed_at) VALUES (%s, %s) "
                "ON CONFLICT (scope) DO NOTHING"
            ),
            (scope, now),
        )
        return count

    def rewrap(self, key_id: bytes, kek_version: int, wrapped: bytes) -> None:
        self._command(
            self._sql("UPDATE {keys} SET kek_version = %s, wrapped = %s WHERE key_id = %s"),
            (kek_version, wrapped, key_id),
        )

    def kek_versions(self) -> dict[int, int]:
        rows = self._query(
            self._sql("SELECT kek_version, COUNT(*) FROM {keys} GROUP BY kek_version"), ()
        )
        return {int(version): int(count) for version, count in rows}

    def _now(self) -> Any:
        return self._time(datetime.now(UTC))


class KeyTables(ABC):
    """A connection to the key store's tables."""

    @abstractmethod
    def read(self) -> AbstractContextManager[KeyTx]:
        """Statements outside any explicit transaction (each sees the latest commit)."""

    @abstractmethod
    def write(self, scope: str | None) -> AbstractContextManager[KeyTx]:
        """One transaction, serialised with every other write to ``scope``
        (``None``: with every write at all)."""

    @abstractmethod
    def after_destroy(self) -> None:
        """Best-effort scrubbing of deleted rows, where the backend allows it."""

    @abstractmethod
    def close(self) -> None: ...
