"""The observatory's tests over HTTP: the API on a fresh database, people by nickname.

``make_api(env)`` serves an app on the database of ``env`` (the ``backend``
fixture's, for a test that also runs on PostgreSQL); ``api`` is one on SQLite.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient
from observatory_http import Api, Clock

from api.app import create_app
from application.rete import Rete
from infrastructure.bootstrap import build_rete
from infrastructure.dev_secret import load_or_create_dev_secret
from infrastructure.settings import load_settings


def env_for(url: str, var_dir: Path) -> dict[str, str]:
    return {"RETE_DATABASE_URL": url, "RETE_VAR_DIR": str(var_dir)}


@pytest.fixture
def make_api(tmp_path: Path) -> Iterator[Callable[[dict[str, str]], Api]]:
    opened: list[tuple[TestClient[Any], Rete]] = []

    def make(env: dict[str, str]) -> Api:
        settings = load_settings(env)
        rete = build_rete(settings, clock=Clock())
        secret = load_or_create_dev_secret(settings.jwt_secret_file).key
        client = TestClient(create_app(settings, rete))
        client.__enter__()
        opened.append((client, rete))
        return Api(client, settings, rete, secret)

    yield make
    for client, rete in opened:
        client.__exit__(None, None, None)
        rete.close()


@pytest.fixture
def api(make_api: Callable[[dict[str, str]], Api], tmp_path: Path) -> Api:
    return make_api(env_for(f"sqlite:///{tmp_path / 'rete.sqlite'}", tmp_path / "var"))


@pytest.fixture
def any_backend_api(
    make_api: Callable[[dict[str, str]], Api], backend: dict[str, str], tmp_path: Path
) -> Api:
    """The API on SQLite, then on PostgreSQL."""
    return make_api(env_for(backend["RETE_DATABASE_URL"], tmp_path / "var"))
