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
    StoredCheckpoint,
    StoredLeaf,
)
from infrastructure.ledger.db.postgres import PostgresLedgerTables
from infrastructure.ledger.db.sqlite import SqliteLedgerTables

__all__ = [
    "Head",
    "LedgerTables",
    "LedgerTx",
    "RawRecord",
    "StoredCheckpoint",
    "StoredLeaf",
    "open_tables",
]


def open_tables(database_url: str, events_table: str) -> LedgerTables:
    """The ledger's tables in the database of ``database_url``, created if missing;
    ``events_table`` is the event store's table (the recorder's ``events_table_name``)."""
    if database_url.startswith("sqlite:///"):
        return SqliteLedgerTables(database_url.removeprefix("sqlite:///"), events_table)
    if database_url.startswith(("postgresql://", "postgres://")):
        conninfo, schema = split_schema(database_url)
        return PostgresLedgerTables(conninfo, schema, events_table)
    raise ValueError("the ledger needs a sqlite:/// or postgresql:// database URL")
