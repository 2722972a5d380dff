"""Fixtures of the encrypted-stream acceptance tests. The application on the test's
backend, its clock and its people come from the shared fixtures (``tests/conftest.py``);
here: the raw database and the HTTP API over an application the test built.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from support.clock import TestClock
from support.http import Api
from support.rawdb import RawDatabase

from application.rete import Rete


@pytest.fixture
def raw(backend: dict[str, str]) -> RawDatabase:
    return RawDatabase(backend)


@pytest.fixture
def make_http(
    make_api: Callable[..., Api], rete_env: dict[str, str], clock: TestClock
) -> Callable[[Rete], Api]:
    """``make_http(rete)``: the API over that application (closed at the end)."""
    return lambda rete: make_api(rete_env, rete, clock)


@pytest.fixture
def rete_env(rete_env: dict[str, str]) -> dict[str, str]:
    """The shared settings, with no notifications worker in these applications: its
    rounds read the test clock, and a story's ``clock.meanwhile`` must fire inside
    the request it times, not in the worker's thread."""
    return {**rete_env, "RETE_NOTIFY_INTERVAL": "0"}
