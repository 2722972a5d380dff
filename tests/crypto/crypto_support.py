"""Helpers of the encryption-at-rest tests (imported by the tests and their conftest)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

import psycopg
from psycopg import sql

from infrastructure.crypto.keystore import SqlKeyStore

KEY_TABLES = ("rete_data_keys", "rete_destroyed_scopes", "rete_destroyed_keys")


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def database_url(backend: dict[str, str]) -> str:
    """The project's RETE_DATABASE_URL for this backend (the fixture's URL names the
    PostgreSQL schema already)."""
    return backend["RETE_DATABASE_URL"]


def raw_rows(backend: dict[str, str], table: str) -> list[tuple[Any, ...]]:
    """Every row of one of our tables, read past the key store."""
    if backend["PERSISTENCE_MODULE"] == "eventsourcing.sqlite":
        conn = sqlite3.connect(backend["SQLITE_DBNAME"])
        try:
            return conn.execute(f"SELECT * FROM {table}").fetchall()
        finally:
            conn.close()
    with psycopg.connect(backend["POSTGRES_URL"], autocommit=True) as pg:
        query = sql.SQL("SELECT * FROM {}").format(
            sql.Identifier(backend["RETE_DATABASE_SCHEMA"], table)
        )
        return list(pg.execute(query).fetchall())


StoreFactory = Callable[..., SqlKeyStore]
