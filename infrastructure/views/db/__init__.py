"""The views' tables beside the events: SQLite (sqlite3) or PostgreSQL (psycopg).

``open_tables`` picks the backend from the database URL the way the key store and
the ledger do, honouring ``?schema=`` on PostgreSQL.
"""

from __future__ import annotations

from infrastructure.crypto.keydb import split_schema
from infrastructure.views.db.base import Dialect, ViewTables, ViewTx
from infrastructure.views.db.postgres import PostgresViewTables
from infrastructure.views.db.sqlite import SqliteViewTables

__all__ = ["Dialect", "ViewTables", "ViewTx", "open_tables"]


def open_tables(database_url: str) -> ViewTables:
    """A connection to the views' tables in the database of ``database_url``
    (``sqlite:///PATH`` or ``postgresql://...[?schema=S]``)."""
    if database_url.startswith("sqlite:///"):
        return SqliteViewTables(database_url.removeprefix("sqlite:///"))
    if database_url.startswith(("postgresql://", "postgres://")):
        conninfo, schema = split_schema(database_url)
        return PostgresViewTables(conninfo, schema)
    raise ValueError("the views need a sqlite:/// or postgresql:// database URL")
