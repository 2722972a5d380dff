"""Fixtures of the encryption-at-rest tests: keyrings, key stores on both backends."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from crypto_support import StoreFactory, database_url

from infrastructure.crypto.kek import Keyring, KeyringData
from infrastructure.crypto.keystore import SqlKeyStore
from infrastructure.settings import load_settings


@pytest.fixture
def keyring_data() -> KeyringData:
    return KeyringData.fresh()


@pytest.fixture
def keyring(keyring_data: KeyringData) -> Keyring:
    return Keyring(keyring_data, source="a test keyring")


@pytest.fixture
def make_store(backend: dict[str, str], keyring: Keyring) -> Iterator[StoreFactory]:
    """Builds key stores on this test's backend, as separate processes would
    (each its own connection and cache), through the settings like the app; all
    closed at the end."""
    settings = load_settings({"RETE_DATABASE_URL": database_url(backend)})
    made: list[SqlKeyStore] = []

    def make(kek: Any = None, **options: Any) -> SqlKeyStore:
        store = SqlKeyStore(settings.database_url, kek or keyring, **options)
        made.append(store)
        return store

    yield make
    for store in made:
        store.close()
