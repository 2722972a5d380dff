"""Fixtures of the audit tests: the API on both backends, and one case story."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from audit_support import Clock, Http, Story, env_for, tell_story
from litestar.testing import TestClient

from api.app import create_app
from infrastructure.bootstrap import build_rete
from infrastructure.dev_secret import load_or_create_dev_secret
from infrastructure.settings import load_settings


@pytest.fixture
def audit_env(backend: dict[str, str], tmp_path: Path) -> dict[str, str]:
    return env_for(backend, tmp_path / "var")


@pytest.fixture
def http(audit_env: dict[str, str]) -> Iterator[Http]:
    settings = load_settings(audit_env)
    clock = Clock()
    rete = build_rete(settings, clock=clock)
    secret = load_or_create_dev_secret(settings.jwt_secret_file).key
    with TestClient(create_app(settings, rete)) as client:
        yield Http(client, settings, rete, clock, secret)
    rete.close()


@pytest.fixture
def story(http: Http) -> Story:
    return tell_story(http)


@pytest.fixture
def problem():
    """``problem(response, status, code)``: an RFC 9457 answer with that code."""

    def check(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
        assert response.status_code == status, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        body: dict[str, Any] = response.json()
        assert body["code"] == code, body
        return body

    return check
