"""Fixtures of the audit tests: the API on both backends, and one case story."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from audit_support import Http, Story, tell_story
from support.clock import TestClock

from application.rete import Rete
from infrastructure.settings import Settings


@pytest.fixture
def audit_env(rete_env: dict[str, str]) -> dict[str, str]:
    return rete_env


@pytest.fixture
def http(settings: Settings, rete: Rete, clock: TestClock) -> Iterator[Http]:
    http = Http.open(settings, rete, clock)
    yield http
    http.close()


@pytest.fixture
def story(http: Http) -> Story:
    return tell_story(http)
