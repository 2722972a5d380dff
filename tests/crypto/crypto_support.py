"""Helpers of the encryption-at-rest tests (imported by the tests and their conftest)."""

from __future__ import annotations

from collections.abc import Callable

from infrastructure.crypto.keystore import SqlKeyStore

KEY_TABLES = ("rete_data_keys", "rete_destroyed_scopes", "rete_destroyed_keys")


def database_url(backend: dict[str, str]) -> str:
    """The project's RETE_DATABASE_URL for this backend (the fixture's URL names the
    PostgreSQL schema already)."""
    return backend["RETE_DATABASE_URL"]


StoreFactory = Callable[..., SqlKeyStore]
