"""Fixtures of the views tests: the application and its views on the test's backend
(SQLite, then PostgreSQL), built from settings as the server builds them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from views_support import MovableClock

from application.rete import Rete
from infrastructure.bootstrap import build_rete, build_store
from infrastructure.settings import Settings, load_settings
from infrastructure.store import ReteEventStore
from infrastructure.views import Views, open_views


@pytest.fixture
def views_env(backend: dict[str, str], tmp_path: Path) -> dict[str, str]:
    return {
        "RETE_DATABASE_URL": backend["RETE_DATABASE_URL"],
        "RETE_VAR_DIR": str(tmp_path / "var"),
        "RETE_CHECKPOINT_INTERVAL": "0",
    }


@pytest.fixture
def settings(views_env: dict[str, str]) -> Settings:
    return load_settings(views_env)


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock()


@pytest.fixture
def store(settings: Settings) -> Iterator[ReteEventStore]:
    store = build_store(settings)
    yield store
    store.close()


@pytest.fixture
def rete(settings: Settings, store: ReteEventStore, clock: MovableClock) -> Iterator[Rete]:
    rete = build_rete(settings, clock=clock, store=store)
    yield rete
    rete.close()


@pytest.fixture
def make_views(settings: Settings, store: ReteEventStore) -> Iterator[Callable[..., Views]]:
    """Opens the views on the test's database: each one is another process's."""
    opened: list[Views] = []

    def make(**options: bool) -> Views:
        views = open_views(settings, store.recorder, store.keys, **options)
        opened.append(views)
        return views

    yield make
    for views in opened:
        views.close()


@pytest.fixture
def views(make_views: Callable[..., Views]) -> Views:
    """The views, reads catching up first on both backends (as SQLite does in-process)."""
    return make_views(catch_up_before_reads=True)
