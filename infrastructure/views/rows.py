"""The rows one batch of the log changes, kept in memory until the batch is written.

Projections work on plain dicts: ``add`` a new row, ``get`` one to change it (read
from the table the first time, then kept). ``flush`` writes the new rows with
plain inserts and the changed ones by key, table by table, inside the batch's
transaction: a rebuild, whose rows are mostly born and changed within one batch,
writes each row once. Every row written is signed there (``row_mac``): the one
place rows reach the tables, so no handler can forget it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from operator import itemgetter
from typing import Any, NamedTuple

from infrastructure.views.db.base import ViewTx
from infrastructure.views.row_mac import RowMac
from infrastructure.views.schema import Table
from infrastructure.views.statements import TableSql

Row = dict[str, Any]


class ViewCorrupt(Exception):
    """A view lacks a row its own history says it has: rebuild it."""


class RowAltered(Exception):
    """A row read back to be changed is not one the views wrote (its MAC fails): it
    is never changed, nor signed again, which would make the alteration valid. The
    batch fails; ``rete views rebuild`` builds the views again from the log."""

    def __init__(self, table: Table, key: tuple[Any, ...]) -> None:
        super().__init__(
            f"{table.name}: a row failed its integrity check (altered in the database); "
            "`rete views rebuild` builds the views again from the log"
        )
        self.table = table
        self.key = key


Held = dict[Table, dict[tuple[Any, ...], Row]]
"""A batch's rows by table and key, as it left them (``RowSet.held``)."""


class RowSet:
    def __init__(
        self,
        tx: ViewTx,
        tables: Mapping[Table, TableSql],
        mac: RowMac,
        earlier: Held | None = None,
    ) -> None:
        """``earlier``: the rows of the batch before, when they may not be written
        yet (a rebuild writes a batch while it projects the next): a row to change
        is taken from there before it is read from its table, and written again
        with this batch, after that one."""
        self._tx = tx
        self._tables = tables
        self._mac = mac
        self._earlier = earlier
        self._new: Held = {}
        self._changed: Held = {}

    def add(self, table: Table, row: Row) -> None:
        new = self._new.get(table)
        if new is None:
            new = self._new[table] = {}
        key = _keys.get(table)
        if key is None:
            key = _keys[table] = _key_getter(table.key)
        new[key(row)] = row

    def get(self, table: Table, *key: Any) -> Row:
        """The row with this key, to change in place."""
        new = self._new.get(table)
        if new is not None and key in new:
            return new[key]
        changed = self._changed.setdefault(table, {})
        row = changed.get(key)
        if row is None:
            row = changed[key] = self._from_earlier(table, key) or self._load(table, key)
        return row

    def held(self) -> Held:
        """This batch's rows (new and changed), as the projections left them: for
        the next batch's ``earlier`` (call before ``signed``, which empties the set)."""
        held: Held = {}
        for rows in (self._new, self._changed):
            for table, by_key in rows.items():
                held.setdefault(table, {}).update(by_key)
        return held

    def _from_earlier(self, table: Table, key: tuple[Any, ...]) -> Row | None:
        if self._earlier is None:
            return None
        row = self._earlier.get(table, {}).get(key)
        return None if row is None else dict(row)

    def _load(self, table: Table, key: tuple[Any, ...]) -> Row:
        sql = self._tables[table]
        found = self._tx.query(sql.select_by_key, key)
        if not found:
            raise ViewCorrupt(f"{sql.name} has no row {key!r}")
        values = self._tx.dialect.decode_row(table.kinds, found[0])
        if not self._mac.valid(table, values):
            raise RowAltered(table, key)
        return dict(zip(table.column_names, values, strict=True))

    def flush(self, tx: ViewTx | None = None) -> None:
        """Write the rows in ``tx`` (by default the one they were read in)."""
        self.write(tx if tx is not None else self._tx, self.signed())

    def signed(self) -> list[Signed]:
        """The rows signed and encoded, ready to ``write``; the set is emptied. (A
        partitioned rebuild does this outside its write transaction, which then
        holds the views' write lock only for the statements.)"""
        signed, mac = [], self._mac
        for table, rows in self._new.items():
            sql = self._tables[table]
            sign = mac.signer(table, sql.dialect)  # in column order: ``insert``'s
            signed.append(Signed(sql, True, list(map(sign, rows.values()))))
        for table, rows in self._changed.items():
            sql = self._tables[table]
            sign, order = mac.signer(table, sql.dialect), _update_order(table)
            signed.append(Signed(sql, False, [order(sign(row)) for row in rows.values()]))
        self._new.clear()
        self._changed.clear()
        return signed

    @staticmethod
    def write(tx: ViewTx, signed: list[Signed]) -> None:
        """New rows with plain inserts, changed ones by key, table by table."""
        for sql, new, params in signed:
            table = sql.table
            if new:
                tx.insert_rows(sql.insert, sql.qualified, table.column_names, table.kinds, params)
            else:
                tx.many(sql.update, params)


class Signed(NamedTuple):
    """One table's rows, signed and encoded: new ones, or changed ones."""

    sql: TableSql
    new: bool
    params: list[tuple[Any, ...]]


_keys: dict[Table, Callable[[Row], tuple[Any, ...]]] = {}
_orders: dict[Table, Callable[[Sequence[Any]], tuple[Any, ...]]] = {}


def _key_getter(key: tuple[str, ...]) -> Callable[[Row], tuple[Any, ...]]:
    """A row's key, as ``Table.key_of`` gives it (a tuple, even of one column)."""
    if len(key) == 1:
        (name,) = key
        return lambda row: (row[name],)
    return itemgetter(*key)


def _update_order(table: Table) -> Callable[[Sequence[Any]], tuple[Any, ...]]:
    """From a row's values in column order to ``TableSql.update``'s parameters
    (every column but the key, then the key)."""
    order = _orders.get(table)
    if order is None:
        names = table.column_names
        rest = [i for i, n in enumerate(names) if n not in table.key]
        keys = [names.index(k) for k in table.key]
        order = _orders[table] = itemgetter(*rest, *keys)
    return order
