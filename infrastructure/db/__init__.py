"""The database layer: one pool per process, one transaction type per backend.

``Database`` (``database``) is the pool: the eventsourcing library's own datastore,
on which the event store's recorder is built (``opening.build_on``), and whose
connections the key store, the views and the ledger borrow for their tables. A
``Tx`` (``tx``) runs statements on one of them, ``%s`` placeholders and tuples on
both backends; ``Dialect`` (``dialect``) says how each names tables and stores
values; ``EventsTable`` (``events``) is the events table's name and shape.
"""

from __future__ import annotations

from infrastructure.database_url import split_schema
from infrastructure.db.database import Database, Durability, database_of
from infrastructure.db.dialect import Dialect
from infrastructure.db.events import EventsTable, events_table_name
from infrastructure.db.opening import build_on, open_database, open_from_settings
from infrastructure.db.tx import Tx

__all__ = [
    "Database",
    "Dialect",
    "Durability",
    "EventsTable",
    "Tx",
    "build_on",
    "database_of",
    "events_table_name",
    "open_database",
    "open_from_settings",
    "split_schema",
]
