"""Fixtures of the ledger store tests: the application and its ledger on the test's
backend (SQLite, then PostgreSQL), built from settings as the server builds them
(the shared fixtures of ``tests/conftest.py``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from ledger_store_support import EventsTable
from support.closing import closing_all

from application.rete import Rete
from infrastructure.ledger.ledger import Ledger, open_ledger
from infrastructure.settings import Settings
from infrastructure.store import ReteEventStore


@pytest.fixture
def ledger_env(rete_env: dict[str, str]) -> dict[str, str]:
    return rete_env


@pytest.fixture
def store(rete: Rete) -> ReteEventStore:
    assert isinstance(rete.ctx.store, ReteEventStore)
    return rete.ctx.store


@pytest.fixture
def make_ledger(settings: Settings, store: ReteEventStore) -> Iterator[Callable[[], Ledger]]:
    """Opens ledgers on the test's database: each one is another process's view."""
    with closing_all(lambda: open_ledger(settings, store.recorder)) as make:
        yield make


@pytest.fixture
def ledger(make_ledger: Callable[[], Ledger]) -> Ledger:
    return make_ledger()


@pytest.fixture
def events(backend: dict[str, str]) -> EventsTable:
    return EventsTable(backend)
