"""The statements on one view table, under the name it has now (live, or being rebuilt)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import cached_property
from operator import itemgetter
from typing import Any

from infrastructure.views.db.base import Dialect, ViewTx
from infrastructure.views.schema import TRACKING, Table


class TableSql:
    """One ``Table`` stored as ``name`` on one backend."""

    def __init__(self, table: Table, name: str, dialect: Dialect) -> None:
        self.table = table
        self.name = name
        self.dialect = dialect
        self.qualified = dialect.qualify(name)

    def create(self) -> str:
        columns = [
            f"{c.name} {self.dialect.types[c.kind]}{'' if c.nullable else ' NOT NULL'}"
            for c in self.table.columns
        ]
        columns.append(f"PRIMARY KEY ({', '.join(self.table.key)})")
        return f"CREATE TABLE IF NOT EXISTS {self.qualified} ({', '.join(columns)})"

    def create_indexes(self) -> list[str]:
        # Named after the table's name now: a table being rebuilt gets its indexes
        # once it is filled (bulk loads are faster without them).
        return [
            f"CREATE INDEX IF NOT EXISTS {name} ON {self.qualified} ({', '.join(cols)})"
            for name, cols in zip(self._index_names(), self.table.indexes, strict=True)
        ]

    def rename_indexes(self, to: TableSql) -> list[str]:
        """Statements giving this table's indexes the names ``to``'s would have
        (PostgreSQL: SQLite has no ``ALTER INDEX``)."""
        return [
            f"ALTER INDEX {self.dialect.qualify(ours)} RENAME TO {_quoted(theirs)}"
            for ours, theirs in zip(self._index_names(), to._index_names(), strict=True)
        ]

    def _index_names(self) -> list[str]:
        return [f"{self.name}_by_{'_'.join(cols)}" for cols in self.table.indexes]

    def drop(self) -> str:
        return f"DROP TABLE IF EXISTS {self.qualified}"

    @cached_property
    def insert(self) -> str:
        names = self.table.column_names
        marks = ", ".join(["%s"] * len(names))
        return f"INSERT INTO {self.qualified} ({', '.join(names)}) VALUES ({marks})"

    @cached_property
    def update(self) -> str:
        """Every column but the key, by key: parameters are the values then the key."""
        rest = self._update_order[: -len(self.table.key)]
        sets = ", ".join(f"{n} = %s" for n in rest)
        return f"UPDATE {self.qualified} SET {sets} WHERE {self._by_key}"

    @cached_property
    def insert_values(self) -> Callable[[Mapping[str, Any]], Sequence[Any]]:
        """A row's values in the order of ``insert``."""
        return _getter(self.table.column_names)

    @cached_property
    def insert_encoder(self) -> Callable[[Sequence[Any]], tuple[Any, ...]]:
        return self.dialect.row_encoder(self.table.kinds)

    @cached_property
    def update_values(self) -> Callable[[Mapping[str, Any]], Sequence[Any]]:
        """A row's values in the order of ``update``'s parameters."""
        return _getter(self._update_order)

    @cached_property
    def update_encoder(self) -> Callable[[Sequence[Any]], tuple[Any, ...]]:
        kinds = {c.name: c.kind for c in self.table.columns}
        return self.dialect.row_encoder(tuple(kinds[n] for n in self._update_order))

    @property
    def _update_order(self) -> tuple[str, ...]:
        rest = tuple(n for n in self.table.column_names if n not in self.table.key)
        return (*rest, *self.table.key)

    @cached_property
    def select_by_key(self) -> str:
        names = ", ".join(self.table.column_names)
        return f"SELECT {names} FROM {self.qualified} WHERE {self._by_key}"

    @cached_property
    def select_all(self) -> str:
        names = ", ".join(self.table.column_names)
        return f"SELECT {names} FROM {self.qualified} ORDER BY {', '.join(self.table.key)}"

    @property
    def _by_key(self) -> str:
        return " AND ".join(f"{k} = %s" for k in self.table.key)

    def rows(self, tx: ViewTx) -> list[tuple[Any, ...]]:
        """Every row, decoded, in key order: what a comparison of two builds reads."""
        kinds = self.table.kinds
        return [self.dialect.decode_row(kinds, row) for row in tx.query(self.select_all)]


class TrackingSql:
    """``rete_view_tracking``: how far each view has followed the log, and the
    fingerprint of the shape it was built with."""

    def __init__(self, dialect: Dialect) -> None:
        self.qualified = dialect.qualify(TRACKING)

    def create(self) -> str:
        return (
            f"CREATE TABLE IF NOT EXISTS {self.qualified} (name TEXT PRIMARY KEY, "
            "position BIGINT NOT NULL CHECK (position >= 0), shape TEXT NOT NULL)"
        )

    def positions(self, tx: ViewTx) -> dict[str, tuple[int, str]]:
        rows = tx.query(f"SELECT name, position, shape FROM {self.qualified}")
        return {str(name): (int(position), str(shape)) for name, position, shape in rows}

    # Changes of the tracking rows go ``later``: with the transaction's next
    # statement or its commit (on PostgreSQL), not a round trip each (a rebuild
    # changes two rows a view at its start, at its end and at its swap).

    def start(self, tx: ViewTx, name: str, shape: str) -> None:
        """The view ``name`` starts from the beginning of the log."""
        self.put(tx, name, 0, shape)

    def advance(self, tx: ViewTx, names: list[str], position: int) -> None:
        # One statement for every view, sent with the batch's rows and its commit
        # (``later``): no round trip of its own.
        among = ", ".join(["%s"] * len(names))
        tx.later(
            f"UPDATE {self.qualified} SET position = %s WHERE name IN ({among}) AND position < %s",
            (position, *names, position),
        )

    def put(self, tx: ViewTx, name: str, position: int, shape: str) -> None:
        self.forget(tx, name)
        tx.later(
            f"INSERT INTO {self.qualified} (name, position, shape) VALUES (%s, %s, %s)",
            (name, position, shape),
        )

    def forget(self, tx: ViewTx, name: str) -> None:
        tx.later(f"DELETE FROM {self.qualified} WHERE name = %s", (name,))


def _quoted(name: str) -> str:
    """An identifier as SQL quotes it (standard quoting, both backends)."""
    return '"' + name.replace('"', '""') + '"'


def _getter(names: tuple[str, ...]) -> Callable[[Mapping[str, Any]], Sequence[Any]]:
    get = itemgetter(*names)
    if len(names) == 1:
        return lambda row: (get(row),)
    return get
