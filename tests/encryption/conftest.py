"""Fixtures of the encrypted-stream acceptance tests: the application built from
settings on the test's backend (SQLite file or PostgreSQL schema, from the shared
``backend`` fixture), its clock, its people, the raw database and the HTTP API.

``make_rete(**RETE_vars)`` builds another instance on the same database: a
restarted process, or a second worker. Every instance is closed at the end.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from encryption_support import Http, RawDatabase, TestClock, people_of, settings_env

from application.rete import Rete
from infrastructure.bootstrap import build_rete
from infrastructure.settings import Settings, load_settings


@pytest.fixture
def clock() -> TestClock:
    return TestClock()


@pytest.fixture
def var_dir(tmp_path: Path) -> Path:
    return tmp_path / "var"


@pytest.fixture
def settings_for(backend: dict[str, str], var_dir: Path) -> Callable[..., Settings]:
    """Settings on this test's backend, with extra RETE_* variables."""
    return lambda **extra: load_settings(settings_env(backend, var_dir, **extra))


@pytest.fixture
def make_rete(
    settings_for: Callable[..., Settings], clock: TestClock
) -> Iterator[Callable[..., Rete]]:
    built: list[Rete] = []

    def make(clock_: TestClock | None = None, **extra: str) -> Rete:
        rete = build_rete(settings_for(**extra), clock=clock_ or clock)
        built.append(rete)
        return rete

    yield make
    for rete in built:
        rete.close()


@pytest.fixture
def rete(make_rete: Callable[..., Rete]) -> Rete:
    return make_rete()


@pytest.fixture
def people(rete: Rete) -> SimpleNamespace:
    return people_of(rete)


@pytest.fixture
def raw(backend: dict[str, str]) -> RawDatabase:
    return RawDatabase(backend)


@pytest.fixture
def make_http(settings_for: Callable[..., Settings]) -> Iterator[Callable[[Rete], Http]]:
    opened: list[Http] = []

    def make(rete: Rete) -> Http:
        http = Http.open(settings_for(), rete)
        opened.append(http)
        return http

    yield make
    for http in opened:
        http.close()
