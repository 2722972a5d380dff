"""The HTTP API on a real database, with tokens minted like ``rete token`` does.

``api`` serves an app built by ``create_app`` on a fresh SQLite database, with
the tests' own clock; ``make_api(env)`` builds one on any backend (pass the
``backend`` fixture's env to run a story on PostgreSQL too). People of the
network are called by nickname: ``api.post("anna", path, json=...)``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar.testing import TestClient

from api.app import create_app
from api.auth import mint_token
from application.rete import Rete
from infrastructure.bootstrap import build_rete
from infrastructure.dev_secret import load_or_create_dev_secret
from infrastructure.settings import Settings, load_settings

MONDAY = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

PEOPLE: dict[str, tuple[str, tuple[str, ...]]] = {
    "anna": ("cav-scirocco", ("caseworker",)),
    "chiara": ("cav-scirocco", ("coordinator",)),
    "paolo": ("pl-cesano", ("caseworker",)),
    "marta": ("asst-rhodense", ("caseworker",)),
    "lia": ("ic-alessandrini", ("caseworker",)),
    "bea": ("ss-cesano", ("caseworker",)),
    "bruna": ("ss-cesano", ("coordinator",)),
    "ugo": ("garanzia-cesano", ("auditor",)),
}


class TestClock:
    __test__ = False

    def __init__(self, at: datetime = MONDAY) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> datetime:
        self.at += timedelta(**delta)
        return self.at


@dataclass
class Api:
    client: TestClient[Any]
    settings: Settings
    rete: Rete
    clock: TestClock
    secret: bytes
    tokens: dict[str, str] = field(default_factory=dict)

    def token(
        self, user: str, service: str, *roles: str, ttl: timedelta = timedelta(hours=1)
    ) -> str:
        return mint_token(
            self.secret,
            self.settings.jwt_issuer,
            self.settings.jwt_audience,
            user,
            service,
            roles,
            ttl,
        )

    def headers(self, who: str) -> dict[str, str]:
        if who not in self.tokens:
            service, roles = PEOPLE[who]
            self.tokens[who] = self.token(who, service, *roles)
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    def _with(self, who: str, kwargs: dict[str, Any]) -> dict[str, str]:
        return {**self.headers(who), **kwargs.pop("headers", {})}

    def get(self, who: str, path: str, **kwargs: Any) -> httpx.Response:
        return self.client.get(path, headers=self._with(who, kwargs), **kwargs)

    def post(self, who: str, path: str, **kwargs: Any) -> httpx.Response:
        return self.client.post(path, headers=self._with(who, kwargs), **kwargs)

    def delete(self, who: str, path: str, **kwargs: Any) -> httpx.Response:
        return self.client.delete(path, headers=self._with(who, kwargs), **kwargs)


def env_for(backend: dict[str, str], var_dir: Path) -> dict[str, str]:
    """The RETE_* variables for a backend (PostgreSQL's schema goes in the URL)."""
    url = backend["RETE_DATABASE_URL"]
    return {"RETE_DATABASE_URL": url, "RETE_VAR_DIR": str(var_dir)}


@pytest.fixture
def make_api(tmp_path: Path) -> Iterator[Callable[[dict[str, str]], Api]]:
    opened: list[tuple[TestClient[Any], Rete]] = []

    def make(env: dict[str, str]) -> Api:
        settings = load_settings(env)
        clock = TestClock()
        rete = build_rete(settings, clock=clock)
        secret = load_or_create_dev_secret(settings.jwt_secret_file).key
        client = TestClient(create_app(settings, rete))
        client.__enter__()
        opened.append((client, rete))
        return Api(client, settings, rete, clock, secret)

    yield make
    for client, rete in opened:
        client.__exit__(None, None, None)
        rete.close()


@pytest.fixture
def any_backend_api(
    make_api: Callable[[dict[str, str]], Api], backend: dict[str, str], tmp_path: Path
) -> Api:
    """The API on SQLite, then on PostgreSQL (the ``backend`` fixture's parameters)."""
    return make_api(env_for(backend, tmp_path / "var"))


@pytest.fixture
def sqlite_env(tmp_path: Path) -> dict[str, str]:
    return env_for({"RETE_DATABASE_URL": f"sqlite:///{tmp_path / 'rete.sqlite'}"}, tmp_path / "var")


@pytest.fixture
def api(make_api: Callable[[dict[str, str]], Api], sqlite_env: dict[str, str]) -> Api:
    return make_api(sqlite_env)


def _assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """An RFC 9457 answer with our stable type and code; returns the body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"] == f"urn:rete:problem:{code}"
    assert body["title"] and isinstance(body["detail"], str)
    assert body["instance"] == f"urn:uuid:{response.headers['x-request-id']}"
    return body


@pytest.fixture
def problem() -> Callable[[httpx.Response, int, str], dict[str, Any]]:
    """``problem(response, status, code)`` checks an error answer and returns its body."""
    return _assert_problem
