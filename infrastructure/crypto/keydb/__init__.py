"""The key store's tables, on SQLite (sqlite3) or PostgreSQL (psycopg), beside the events.

    rete_data_keys        key_id (16 bytes) primary key, scope, generation,
                          created_at, kek_version, wrapped; unique (scope, generation)
    rete_destroyed_scopes scope primary key, destroyed_at: a scope that may never seal again
    rete_destroyed_keys   key_id primary key, scope, destroyed_at: ids of destroyed keys,
                          so "destroyed" (erased) can be told from "never existed" (tampered)

No column holds key material in clear: ``wrapped`` is the data key under a KEK.
Write transactions are serialised per scope (SQLite: ``BEGIN IMMEDIATE``;
PostgreSQL: a transaction-scoped advisory lock on the scope), so "is the scope
destroyed? then create its first key" and "destroy the scope" cannot interleave.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from infrastructure.crypto.keydb.base import KeyRow, KeyTables, KeyTx
from infrastructure.crypto.keydb.postgres import PostgresKeyTables
from infrastructure.crypto.keydb.sqlite import SqliteKeyTables

__all__ = ["KeyRow", "KeyTables", "KeyTx", "open_tables", "split_schema"]


def open_tables(database_url: str) -> KeyTables:
    """The tables in the database of ``database_url`` (``sqlite:///PATH`` or
    ``postgresql://...[?schema=S]``), created if missing."""
    if database_url.startswith("sqlite:///"):
        return SqliteKeyTables(database_url.removeprefix("sqlite:///"))
    if database_url.startswith(("postgresql://", "postgres://")):
        conninfo, schema = split_schema(database_url)
        return PostgresKeyTables(conninfo, schema)
    raise ValueError("the key store needs a sqlite:/// or postgresql:// database URL")


def split_schema(url: str) -> tuple[str, str]:
    """``(url without ?schema=, schema)``: libpq does not know the ``schema`` parameter."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    schema = next((value for key, value in query if key == "schema" and value), "public")
    rest = urlencode([(key, value) for key, value in query if key != "schema"])
    return urlunsplit(parts._replace(query=rest)), schema
