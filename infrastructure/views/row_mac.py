"""Authenticated rows: each view row carries a MAC over its table and every column.

The views decide who reads what (a case's owner, a referral's recipient, a
consent's terms) and hand out sealed parts with the place they open at. Someone
who can write to the database but holds no KEK could otherwise change a row and
have the API decrypt for the wrong reader. So every row is written with
``mac = HMAC-SHA256(key, msgpack([table name, column values...]))`` under the key
of ``infrastructure.crypto.view_mac`` (never stored), computed in one place, where
a batch writes its rows (``RowSet.flush``), and checked where rows are read
(``reader.ViewQueries``) before a row decides anything.

The MAC covers the table's name (a row moved to another table fails), its key (a
row copied under another id fails), and every other column: owner, recipients,
scope, status, consent terms, and a sealed part's blob together with the category
and case of the row that holds it (a part moved onto another row fails). Values
are taken as the views' Python values (``schema.Column.kind``), as written and as
decoded, so both backends compute the same MAC for the same row.

What a MAC cannot see is a row deleted, or put back as it was earlier (a valid
row of the past). Deletions that would hide something are counted: a case's
access log has a count of its own (``schema.ACCESS_COUNTS``), and the reader
checks it. Putting back an old row is documented in docs/VIEWS.md; ``rete views
check`` finds it, as it finds any difference from the log.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Mapping, Sequence
from operator import itemgetter
from typing import TYPE_CHECKING, Any, Final

import msgspec

from infrastructure.views.schema import MAC, Table

if TYPE_CHECKING:
    from infrastructure.views.db.base import Dialect

_encode: Final = msgspec.msgpack.Encoder().encode
MAC_SIZE: Final = 32
_BLOCK: Final = 64  # SHA-256's block, in bytes


class RowMac:
    """Computes and checks the MAC of view rows under one key (thread-safe)."""

    def __init__(self, key: bytes) -> None:
        if len(key) < MAC_SIZE:
            raise ValueError("a view MAC key is at least 32 bytes")
        # HMAC-SHA256 with its key already absorbed: each row copies it (the key's
        # set-up is most of the cost of a MAC this short).
        self._keyed = hmac.new(key, digestmod=hashlib.sha256)
        # The same HMAC (RFC 2104) as its two hashes, for ``signer``: the inner one
        # can then absorb a table's constant prefix once, and copying two hashlib
        # objects costs less than copying an ``hmac.HMAC`` (checked equal to
        # ``hmac`` in the tests).
        block = key if len(key) <= _BLOCK else hashlib.sha256(key).digest()
        block = block.ljust(_BLOCK, b"\0")
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in block))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in block))
        # Per table: (its columns but the MAC, from a row; the indexes of its flags).
        # Flags are taken as bool, whatever truthy value a handler or a driver gives.
        self._shapes: dict[Table, tuple[Callable[[Mapping[str, Any]], Any], tuple[int, ...]]] = {}
        self._signers: dict[
            tuple[Table, Dialect | None], Callable[[Mapping[str, Any]], tuple[Any, ...]]
        ] = {}

    def sign(self, table: Table, row: dict[str, Any]) -> None:
        """Set the row's ``mac`` from its other columns."""
        columns, _ = self._shape(table)
        mac = self._mac(table, list(columns(row)))
        if mac is None:
            raise TypeError(f"{table.name}: a row holds a value the views do not store")
        row[MAC] = mac

    def signer(
        self, table: Table, dialect: Dialect | None = None
    ) -> Callable[[Mapping[str, Any]], tuple[Any, ...]]:
        """A function giving a row's values in column order, the MAC last, as
        ``sign`` would set it (the row itself is left as it is), the other values
        encoded for ``dialect`` (``Dialect.row_encoder``; None: as they are).

        Built once per table, for a batch's rows: the message is ``msgpack([table
        name, values...])``, that is a constant prefix (the array's header and the
        name) followed by ``msgpack(values)`` without its own header; the prefix is
        absorbed once into the inner hash."""
        found = self._signers.get((table, dialect))
        if found is not None:
            return found
        if table.columns[-1].name != MAC:
            raise ValueError(f"{table.name}: its MAC is not its last column")
        get, flags = self._shape(table)
        count = len(table.columns) - 1
        blanks = [None] * count
        prefix = _encode([table.name, *blanks])[:-count]
        header = len(_encode(blanks)) - count  # msgpack(values)'s array header
        inner = self._inner.copy()
        inner.update(prefix)
        outer = self._outer

        encode = None if dialect is None else dialect.row_encoder(table.kinds[:-1])
        convert = None if encode is tuple else encode
        refused = f"{table.name}: a row holds a value the views do not store"

        def signed(row: Mapping[str, Any]) -> tuple[Any, ...]:
            values = get(row)
            signing = values
            if flags:
                signing = list(values)
                for i in flags:
                    if signing[i] is not None:
                        signing[i] = bool(signing[i])
            try:
                message = _encode(signing)
            except (TypeError, msgspec.EncodeError):
                raise TypeError(refused) from None
            h = inner.copy()
            h.update(memoryview(message)[header:])
            o = outer.copy()
            o.update(h.digest())
            if convert is not None:
                return (*convert(values), o.digest())
            return (*values, o.digest())

        self._signers[(table, dialect)] = signed
        return signed

    def valid(self, table: Table, values: Sequence[Any]) -> bool:
        """Whether a row read back (its decoded values, in column order, the MAC
        last) is the one the views wrote."""
        stored = values[-1]
        if not isinstance(stored, bytes | bytearray | memoryview):
            return False
        mac = self._mac(table, list(values[:-1]))
        return mac is not None and hmac.compare_digest(mac, bytes(stored))

    def _mac(self, table: Table, values: list[Any]) -> bytes | None:
        _, flags = self._shape(table)
        for i in flags:
            if values[i] is not None:
                values[i] = bool(values[i])
        values.insert(0, table.name)
        try:
            message = _encode(values)
        except (TypeError, msgspec.EncodeError):
            return None
        mac = self._keyed.copy()
        mac.update(message)
        return mac.digest()

    def _shape(self, table: Table) -> tuple[Callable[[Mapping[str, Any]], Any], tuple[int, ...]]:
        shape = self._shapes.get(table)
        if shape is None:
            columns = [c for c in table.columns if c.name != MAC]
            flags = tuple(i for i, c in enumerate(columns) if c.kind == "bool")
            names = [c.name for c in columns]
            get = itemgetter(*names)
            getter = get if len(names) > 1 else (lambda row: (get(row),))
            shape = self._shapes[table] = (getter, flags)
        return shape
