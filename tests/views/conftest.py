"""Fixtures of the views tests: the application and its views on the test's backend
(SQLite, then PostgreSQL), built from settings as the server builds them (the
shared fixtures of ``tests/conftest.py``), over an event store the test holds."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from support.closing import closing_all

from application.rete import Rete
from infrastructure.bootstrap import build_store
from infrastructure.settings import Settings
from infrastructure.store import ReteEventStore
from infrastructure.views import Views, open_views


@pytest.fixture
def views_env(rete_env: dict[str, str]) -> dict[str, str]:
    return rete_env


@pytest.fixture
def store(settings: Settings) -> Iterator[ReteEventStore]:
    store = build_store(settings)
    yield store
    store.close()


@pytest.fixture
def rete(store: ReteEventStore, make_rete: Callable[..., Rete]) -> Rete:
    """The application over the test's store (closed before the store)."""
    return make_rete(store=store)


@pytest.fixture
def make_views(settings: Settings, store: ReteEventStore) -> Iterator[Callable[..., Views]]:
    """Opens the views on the test's database: each one is another process's."""

    def make(**options: bool) -> Views:
        return open_views(settings, store.recorder, store.keys, **options)

    with closing_all(make) as made:
        yield made


@pytest.fixture
def views(make_views: Callable[..., Views]) -> Views:
    """The views, reads catching up first on both backends (as SQLite does in-process)."""
    return make_views(catch_up_before_reads=True)
