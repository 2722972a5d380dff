"""Fixtures of the ledger store tests: the application and its ledger on the test's
backend (SQLite, then PostgreSQL), built from settings as the server builds them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from ledger_store_support import EventsTable

from application.rete import Rete
from infrastructure.bootstrap import build_rete
from infrastructure.ledger.ledger import Ledger, open_ledger
from infrastructure.settings import Settings, load_settings
from infrastructure.store import ReteEventStore


@pytest.fixture
def ledger_env(backend: dict[str, str], tmp_path: Path) -> dict[str, str]:
    """The RETE_* settings: the backend's database, development keys under var/, no
    periodic checkpoints (tests sign when they mean to)."""
    return {
        "RETE_DATABASE_URL": backend["RETE_DATABASE_URL"],
        "RETE_VAR_DIR": str(tmp_path / "var"),
        "RETE_CHECKPOINT_INTERVAL": "0",
    }


@pytest.fixture
def settings(ledger_env: dict[str, str]) -> Settings:
    return load_settings(ledger_env)


@pytest.fixture
def rete(settings: Settings) -> Iterator[Rete]:
    rete = build_rete(settings)
    yield rete
    rete.close()


@pytest.fixture
def store(rete: Rete) -> ReteEventStore:
    assert isinstance(rete.ctx.store, ReteEventStore)
    return rete.ctx.store


@pytest.fixture
def make_ledger(settings: Settings, store: ReteEventStore) -> Iterator[Callable[[], Ledger]]:
    """Opens ledgers on the test's database: each one is another process's view."""
    opened: list[Ledger] = []

    def make() -> Ledger:
        ledger = open_ledger(settings, store.recorder)
        opened.append(ledger)
        return ledger

    yield make
    for ledger in opened:
        ledger.close()


@pytest.fixture
def ledger(make_ledger: Callable[[], Ledger]) -> Ledger:
    return make_ledger()


@pytest.fixture
def events(backend: dict[str, str]) -> EventsTable:
    return EventsTable(backend)
