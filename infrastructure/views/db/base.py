"""What both backends share: the connection protocol, and how values are stored.

Statements are written once with ``%s`` placeholders; the SQLite side turns them
into ``?``. Values are converted by column kind (``schema.Column.kind``): a moment
is ``TIMESTAMPTZ`` on PostgreSQL and whole microseconds since 1970 (UTC) on
SQLite, so that both order and compare them natively; a flag is ``BOOLEAN`` or
0/1.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from typing import Any, Final

Convert = Callable[[Any], Any]

EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND: Final = timedelta(microseconds=1)


def to_micros(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError("a view stores moments with a time zone only")
    return (moment - EPOCH) // _MICROSECOND


def from_micros(value: int) -> datetime:
    return EPOCH + timedelta(microseconds=value)


class Dialect(ABC):
    """How one backend names tables, types columns and stores values."""

    name: str
    types: dict[str, str]

    @abstractmethod
    def qualify(self, table: str) -> str:
        """The table's name as statements write it (schema-qualified on PostgreSQL)."""

    @abstractmethod
    def encoder(self, kind: str) -> Convert | None:
        """Python value -> stored value, for a column kind (None: as it is)."""

    @abstractmethod
    def decoder(self, kind: str) -> Convert | None:
        """Stored value -> Python value, for a column kind (None: as it is)."""

    @abstractmethod
    def rename_table(self, old: str, new: str) -> list[str]:
        """Statements that rename a table and what is named after it (its key)."""

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
        out = []
        for kind, value in zip(kinds, values, strict=True):
            convert = self.decoder(kind)
            out.append(value if value is None or convert is None else convert(value))
        return tuple(out)


class ViewTx(ABC):
    """Statements on the views' tables, on one connection (and, for writes, in one
    transaction)."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect

    @abstractmethod
    def query(
        self, statement: str, params: Sequence[Any] = (), *, binary: bool = False
    ) -> list[tuple[Any, ...]]:
        """The rows; ``binary``: in the backend's binary format where it has one (no
        text to parse, but each column must be of a type it loads as Python wants)."""

    @abstractmethod
    def command(self, statement: str, params: Sequence[Any] = ()) -> None: ...

    @abstractmethod
    def many(self, statement: str, rows: Iterable[Sequence[Any]]) -> None: ...

    @abstractmethod
    def table_exists(self, table: str) -> bool: ...

    def insert_rows(
        self, insert: str, table: str, columns: Sequence[str], kinds: Sequence[str], rows: list[Any]
    ) -> None:
        """Plain inserts of many rows (``insert`` is the statement for one; ``table``
        is qualified; ``kinds`` the columns' kinds): a backend may load them faster."""
        self.many(insert, rows)


class ViewTables(ABC):
    """A connection to the views' tables, beside the events."""

    dialect: Dialect

    @abstractmethod
    def read(self, snapshot: bool = True) -> AbstractContextManager[ViewTx]:
        """Statements in one read-only snapshot (every query sees the same state);
        ``snapshot=False`` for one statement on its own (one round trip)."""

    @abstractmethod
    def write(self, bulk: bool = False) -> AbstractContextManager[ViewTx]:
        """One transaction, serialised with every other writer of the views, in any
        process (the projections' batches, a rebuild's swap). ``bulk``: a batch of a
        rebuild's side tables, which a crash may lose whole (the rebuild starts over);
        never the live views nor the swap."""

    @abstractmethod
    def close(self) -> None: ...
