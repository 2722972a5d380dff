"""How each backend names tables, types columns and stores values.

Statements are written once with ``%s`` placeholders; the SQLite side turns them
into ``?``. Values are converted by column kind: a ``time`` is ``TIMESTAMPTZ`` on
PostgreSQL and whole microseconds since 1970 (UTC) on SQLite, so that both order
and compare them natively (the views); a ``stamp`` is ``TIMESTAMPTZ`` or ISO 8601
text (the key store's and the ledger's moments, stored so since they exist); a
flag is ``BOOLEAN`` or 0/1.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from psycopg import sql

Convert = Callable[[Any], Any]

EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND: Final = timedelta(microseconds=1)


def to_micros(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError("a view stores moments with a time zone only")
    return (moment - EPOCH) // _MICROSECOND


def from_micros(value: int) -> datetime:
    return EPOCH + timedelta(microseconds=value)


def _iso(moment: datetime) -> str:
    return moment.isoformat()


def _from_iso(value: Any) -> datetime:
    return datetime.fromisoformat(str(value))


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


class Dialect(ABC):
    """How one backend names tables, types columns and stores values."""

    name: str
    schema: str  # where the tables live (SQLite: the one database file, "main")
    types: dict[str, str]  # column kind -> the backend's type
    encoders: dict[str, Convert]  # column kind -> Python value to stored value
    decoders: dict[str, Convert]  # column kind -> stored value to Python value
    length: str  # the function giving a blob's length in bytes

    @abstractmethod
    def qualify(self, table: str) -> str:
        """The table's name as statements write it (schema-qualified on PostgreSQL)."""

    def encoder(self, kind: str) -> Convert | None:
        """Python value -> stored value, for a column kind (None: as it is)."""
        return self.encoders.get(kind)

    def decoder(self, kind: str) -> Convert | None:
        """Stored value -> Python value, for a column kind (None: as it is)."""
        return self.decoders.get(kind)

    @abstractmethod
    def rename_table(self, old: str, new: str) -> list[str]:
        """Statements that rename a table and what is named after it (its key)."""

    def create_schema(self) -> list[str]:
        """Statements creating the schema the tables live in, if missing."""
        return []

    def encode(self, kind: str, value: Any) -> Any:
        convert = self.encoder(kind)
        return value if value is None or convert is None else convert(value)

    def decode(self, kind: str, value: Any) -> Any:
        convert = self.decoder(kind)
        return value if value is None or convert is None else convert(value)

    def encode_row(self, kinds: Sequence[str], values: Sequence[Any]) -> tuple[Any, ...]:
        return self.row_encoder(tuple(kinds))(values)

    def row_encoder(self, kinds: tuple[str, ...]) -> Callable[[Sequence[Any]], tuple[Any, ...]]:
        """A function encoding rows of these kinds (built once per table: a rebuild
        encodes every row of every view)."""
        converting = [(i, c) for i, kind in enumerate(kinds) if (c := self.encoder(kind))]
        if not converting:
            return tuple

        def encode(values: Sequence[Any]) -> tuple[Any, ...]:
            out = list(values)
            for i, convert in converting:
                if out[i] is not None:
                    out[i] = convert(out[i])
            return tuple(out)

        return encode

    def decode_row(self, kinds: Sequence[str], values: Sequence[Any]) -> tuple[Any, ...]:
        """A stored row's values, each decoded by its kind. Every view row read is
        decoded here, so the converters of a row's kinds are looked up once per
        shape of row (``_row_decoders``), not once per value."""
        key = kinds if isinstance(kinds, tuple) else tuple(kinds)
        converting = _row_decoders.get((self.name, key))
        if converting is None:
            converting = [(i, c) for i, kind in enumerate(key) if (c := self.decoder(kind))]
            _row_decoders[(self.name, key)] = converting
        if len(values) != len(key):
            raise ValueError(f"a row of {len(values)} values read as {len(key)} columns")
        out = list(values)
        for i, convert in converting:
            if out[i] is not None:
                out[i] = convert(out[i])
        return tuple(out)


# The converters of each shape of row a dialect decodes, by (dialect, column kinds):
# a few dozen shapes at most (one per table, and the few statements of their own).
_row_decoders: dict[tuple[str, tuple[str, ...]], list[tuple[int, Convert]]] = {}


class SqliteDialect(Dialect):
    name = "sqlite"
    schema = "main"
    types = {
        "text": "TEXT",
        "int": "INTEGER",
        "bool": "INTEGER",
        "time": "INTEGER",
        "stamp": "TEXT",
        "blob": "BLOB",
    }
    encoders: dict[str, Convert] = {"time": to_micros, "stamp": _iso}
    decoders: dict[str, Convert] = {
        "time": from_micros,
        "stamp": _from_iso,
        "bool": bool,
        "blob": bytes,
    }
    length = "length"

    def qualify(self, table: str) -> str:
        return f'"{table}"'

    def rename_table(self, old: str, new: str) -> list[str]:
        # The key's automatic index follows the table.
        return [f"ALTER TABLE {self.qualify(old)} RENAME TO {self.qualify(new)}"]


class PostgresDialect(Dialect):
    name = "postgres"
    types = {
        "text": "TEXT",
        "int": "BIGINT",
        "bool": "BOOLEAN",
        "time": "TIMESTAMPTZ",
        "stamp": "TIMESTAMPTZ",
        "blob": "BYTEA",
    }
    encoders: dict[str, Convert] = {}
    decoders: dict[str, Convert] = {"time": _utc, "blob": bytes}
    length = "octet_length"

    def __init__(self, schema: str) -> None:
        self.schema = schema

    def qualify(self, table: str) -> str:
        return sql.Identifier(self.schema, table).as_string()

    def create_schema(self) -> list[str]:
        return [f"CREATE SCHEMA IF NOT EXISTS {sql.Identifier(self.schema).as_string()}"]

    def rename_table(self, old: str, new: str) -> list[str]:
        # The key's index is named after the table it was created with.
        return [
            f"ALTER TABLE {self.qualify(old)} RENAME TO {sql.Identifier(new).as_string()}",
            f"ALTER INDEX {self.qualify(old + '_pkey')} "
            f"RENAME TO {sql.Identifier(new + '_pkey').as_string()}",
        ]


SQLITE: Final = SqliteDialect()
