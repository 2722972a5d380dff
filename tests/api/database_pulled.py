"""An app whose database is pulled from under it, for the health tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from litestar.testing import TestClient

from api.app import create_app
from infrastructure.bootstrap import build_rete
from infrastructure.settings import load_settings


@contextmanager
def without_its_database(sqlite_env: dict[str, str]) -> Iterator[TestClient]:
    """A client of a running app whose store is closed. No background threads: the
    server itself never does this (its threads stop before the store closes)."""
    quiet = {**sqlite_env, "RETE_CHECKPOINT_INTERVAL": "0", "RETE_ESCALATION_INTERVAL": "0"}
    settings = load_settings(quiet)
    rete = build_rete(settings)
    with TestClient(create_app(settings, rete)) as client:
        rete.close()
        yield client
