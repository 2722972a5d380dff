"""A batch's rows are signed in one pass (``RowMac.signer``): the MAC is the one
``RowMac.sign`` sets and ``RowMac.valid`` accepts, the HMAC is the standard one,
and the values are encoded as each backend's statements take them."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime
from typing import Any

import msgspec
import pytest

from infrastructure.db.dialect import SQLITE, PostgresDialect
from infrastructure.views.projection import ALL_VIEWS
from infrastructure.views.row_mac import RowMac
from infrastructure.views.schema import MAC, Table

TABLES = [t for v in ALL_VIEWS for t in v.tables]
KEYS = [bytes(range(32)), bytes(range(64)), bytes(range(100))]  # a key above a block is hashed


def _row(table: Table, n: int) -> dict[str, Any]:
    """One row of every kind's value; nullable columns empty on odd ``n``; flags as
    a driver may give them (1, 0) on ``n`` divisible by 3."""
    values: dict[str, Any] = {}
    for i, c in enumerate(table.columns):
        if c.name == MAC:
            continue
        if c.nullable and n % 2:
            values[c.name] = None
        elif c.kind == "text":
            values[c.name] = f"{c.name}-{n}-é"
        elif c.kind == "int":
            values[c.name] = n * 1000 + i
        elif c.kind == "bool":
            values[c.name] = (n + i) % 2 if n % 3 == 0 else bool((n + i) % 2)
        elif c.kind == "time":
            values[c.name] = datetime(2026, 12, 5, 3, 50, n % 60, 123456 + n, tzinfo=UTC)
        else:
            values[c.name] = bytes([n % 256, i % 256]) * 20
    return values


@pytest.mark.parametrize("key", KEYS, ids=lambda k: f"{len(k)}-byte key")
@pytest.mark.parametrize("table", TABLES, ids=lambda t: t.name)
def test_a_batch_signs_as_one_row_is_signed(table: Table, key: bytes) -> None:
    mac = RowMac(key)
    for n in range(6):
        row = _row(table, n)
        signed = mac.signer(table)(row)
        assert MAC not in row  # the row itself is left as it was
        expected = dict(row)
        mac.sign(table, expected)
        assert signed == tuple(expected[c] for c in table.column_names)
        assert mac.valid(table, signed)
        # The standard HMAC-SHA256 of msgpack([table name, values...]), flags as bool.
        values = [
            bool(v) if c.kind == "bool" and v is not None else v
            for c, v in zip(table.columns, signed[:-1], strict=False)
        ]
        message = msgspec.msgpack.encode([table.name, *values])
        assert signed[-1] == hmac.new(key, message, hashlib.sha256).digest()


@pytest.mark.parametrize("dialect", [SQLITE, PostgresDialect("public")], ids=lambda d: d.name)
@pytest.mark.parametrize("table", TABLES, ids=lambda t: t.name)
def test_signed_rows_are_encoded_for_their_backend(table: Table, dialect: Any) -> None:
    mac = RowMac(KEYS[0])
    row = _row(table, 4)
    plain = mac.signer(table)(row)
    assert mac.signer(table, dialect)(row) == dialect.row_encoder(table.kinds)(plain)


def test_a_value_the_views_do_not_store_is_refused() -> None:
    table = TABLES[0]
    row = _row(table, 0)
    row[table.column_names[1]] = object()
    with pytest.raises(TypeError, match=table.name):
        RowMac(KEYS[0]).signer(table)(row)
