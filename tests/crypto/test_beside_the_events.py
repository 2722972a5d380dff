"""The key store lives in the events' database without touching the events."""

from __future__ import annotations

import sqlite3
from typing import Any
from uuid import UUID

import psycopg
from crypto_support import StoreFactory
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from psycopg import sql

from infrastructure.crypto.kek import Keyring
from infrastructure.crypto.scopes import SYSTEM_SCOPE, case_scope


class Ledger(Aggregate):
    @event("Written")
    def __init__(self, text: str) -> None:
        self.text = text


def stored_events(backend: dict[str, str]) -> list[tuple[Any, ...]]:
    """The event table's rows, byte for byte."""
    if backend["PERSISTENCE_MODULE"] == "eventsourcing.sqlite":
        conn = sqlite3.connect(backend["SQLITE_DBNAME"])
        try:
            return conn.execute("SELECT * FROM stored_events ORDER BY rowid").fetchall()
        finally:
            conn.close()
    with psycopg.connect(backend["POSTGRES_URL"], autocommit=True) as pg:
        table = sql.Identifier(backend["RETE_DATABASE_SCHEMA"], "application_events")
        query = sql.SQL("SELECT * FROM {} ORDER BY notification_id").format(table)
        return [
            tuple(bytes(v) if isinstance(v, memoryview) else v for v in row)
            for row in pg.execute(query)
        ]


def test_rewrapping_rewrites_keys_and_not_one_event(
    backend: dict[str, str], make_store: StoreFactory, keyring: Keyring
) -> None:
    app: Application[UUID] = Application(env=backend)
    try:
        store = make_store()
        for n in range(5):
            store.sealing_key(case_scope(UUID(int=n + 1)))
            app.save(Ledger(f"event {n}"))
        store.sealing_key(SYSTEM_SCOPE)
        before = stored_events(backend)
        assert len(before) == 5

        keyring.rotate()
        assert store.rewrap_all(keyring) == 6
        app.save(Ledger("after the rotation"))  # both keep working on the same database

        after = stored_events(backend)
        assert after[:5] == before and len(after) == 6
    finally:
        app.close()
