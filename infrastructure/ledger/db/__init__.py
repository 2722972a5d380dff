"""The ledger's tables beside the events, on the process's database
(``infrastructure.db``): SQLite or PostgreSQL, in the events' schema.

The layout is in ``schema``, the statements in ``base`` (and, where the backends
differ, ``sqlite`` and ``postgres``).
"""

from __future__ import annotations

from typing import Final

from infrastructure.db import Database, open_database
from infrastructure.ledger.db.base import LedgerTables, LedgerTx, StoredChunk, TablesAddress
from infrastructure.ledger.db.postgres import PostgresLedgerTx
from infrastructure.ledger.db.schema import Head, RawRecord, RecordRow, StoredCheckpoint, StoredLeaf
from infrastructure.ledger.db.sqlite import SqliteLedgerTx

__all__ = [
    "Head",
    "LedgerTables",
    "LedgerTx",
    "RawRecord",
    "RecordRow",
    "StoredCheckpoint",
    "StoredChunk",
    "StoredLeaf",
    "TablesAddress",
    "open_tables",
]

# Connections of tables opened on a bare database URL (a verification worker
# reads one page at a time).
_OWN_POOL: Final = 1


def open_tables(
    database: Database | str, events_table: str, *, create: bool = True
) -> LedgerTables:
    """The ledger's tables on ``database`` (the process's pool), or on a pool of
    their own (closed with them) opened on a database URL; created if missing
    (``create=False`` for a reader that knows they exist: no write, no lock).
    ``events_table`` is the event store's table (``infrastructure.db.events_table_name``)."""
    owned = isinstance(database, str)
    opened = open_database(database, _OWN_POOL) if isinstance(database, str) else database
    make_tx = SqliteLedgerTx if opened.dialect.name == "sqlite" else PostgresLedgerTx
    try:
        return LedgerTables(opened, events_table, make_tx, create=create, owned=owned)
    except BaseException:
        if owned:
            opened.close()
        raise
