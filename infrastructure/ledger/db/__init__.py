"""The ledger's tables beside the events: SQLite (sqlite3) or PostgreSQL (psycopg).

The layout is in ``base``; ``open_tables`` picks the backend from the database
URL the way the key store does, honouring ``?schema=`` on PostgreSQL.
"""

from __future__ import annotations

from infrastructure.crypto.keydb import split_schema
from infrastructure.ledger.db.base import (
    Head,
    LedgerTables,
    LedgerTx,
    RawRecord,
    RecordRow,
    StoredCheckpoint,
    StoredChunk,
    StoredLeaf,
    TablesAddress,
)
from infrastructure.ledger.db.postgres import PostgresLedgerTables
from infrastructure.ledger.db.sqlite import SqliteLedgerTables

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


def open_tables(database_url: str, events_table: str, *, create: bool = True) -> LedgerTables:
    """The ledger's tables in the database of ``database_url``, created if missing
    (``create=False`` for a reader that knows they exist: no write, no lock);
    ``events_table`` is the event store's table (the recorder's ``events_table_name``)."""
    tables: LedgerTables
    if database_url.startswith("sqlite:///"):
        path = database_url.removeprefix("sqlite:///")
        tables = SqliteLedgerTables(path, events_table, create=create)
    elif database_url.startswith(("postgresql://", "postgres://")):
        conninfo, schema = split_schema(database_url)
        tables = PostgresLedgerTables(conninfo, schema, events_table, create=create)
    else:
        raise ValueError("the ledger needs a sqlite:/// or postgresql:// database URL")
    tables.address = TablesAddress(database_url, events_table)
    return tables
