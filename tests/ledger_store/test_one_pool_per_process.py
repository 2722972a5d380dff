"""``rete serve`` and its background work (the ledger's follower and checkpoints, the
escalation, the views' catch-up) hold one pool of ``RETE_DATABASE_POOL_SIZE``
connections: counted from the database's side on PostgreSQL, from the process's
open files on SQLite."""

from __future__ import annotations

import os
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from litestar.testing import TestClient
from support.http import anna_headers

from api.app import create_app
from infrastructure.settings import Settings, SettingsError, load_settings

POOL = 3


def _connections(backend: dict[str, str], application_name: str) -> int:
    if "POSTGRES_URL" in backend:
        with psycopg.connect(
            backend["POSTGRES_URL"], autocommit=True, application_name="rete-pool-counter"
        ) as conn:
            row = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s",
                (application_name,),
            ).fetchone()
            assert row is not None
            return int(row[0])
    # Every SQLite connection holds the database file open once (its WAL and shared
    # memory are other files).
    database = Path(backend["SQLITE_DBNAME"]).resolve()
    fds = Path("/proc/self/fd")
    return sum(1 for fd in fds.iterdir() if _target(fd) == database)


def _target(fd: Path) -> Path | None:
    try:
        return Path(os.readlink(fd))
    except OSError:
        return None


def _headers(settings: Settings) -> dict[str, str]:
    return anna_headers(settings, timedelta(hours=1))


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="counts open files in /proc")
def test_the_server_and_its_background_work_hold_one_pool_of_the_configured_size(
    backend: dict[str, str], ledger_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # libpq names every connection of this process after PGAPPNAME.
    name = f"rete-pool-{uuid.uuid4().hex[:12]}"
    monkeypatch.setenv("PGAPPNAME", name)
    settings = load_settings(
        {
            **ledger_env,
            "RETE_DATABASE_POOL_SIZE": str(POOL),
            "RETE_CHECKPOINT_INTERVAL": "0.1",
            "RETE_ESCALATION_INTERVAL": "0.1",
        }
    )
    headers = _headers(settings)
    seen: list[int] = []
    # As `rete serve` builds each worker: the application built from settings alone.
    with TestClient(create_app(settings)) as client:
        for _ in range(3):  # events and keys: a case sealed under a key of its own
            opened = client.post("/api/v1/cases", headers=headers)
            assert opened.status_code == 201, opened.text
            seen.append(_connections(backend, name))
        listed = client.get("/api/v1/cases", headers=headers)  # the views
        assert listed.status_code == 200, listed.text
        deadline = time.monotonic() + 20
        answer: Any = None
        while (answer := client.get("/api/v1/ledger/checkpoint", headers=headers)).status_code:
            if answer.status_code == 200:  # the ledger followed the log and signed
                break
            assert time.monotonic() < deadline, "no checkpoint signed"
            time.sleep(0.05)
            seen.append(_connections(backend, name))
        time.sleep(0.3)  # a few more rounds of the background threads
        if "POSTGRES_URL" in backend:
            # psycopg_pool fills the pool to its size in the background.
            while _connections(backend, name) < POOL and time.monotonic() < deadline:
                time.sleep(0.05)
        seen.append(_connections(backend, name))
    assert max(seen) <= POOL
    if "POSTGRES_URL" in backend:
        assert seen[-1] == POOL
    else:
        assert seen[-1] >= 1
    # All closed at shutdown. A server process leaves ``pg_stat_activity`` a moment
    # after its client said goodbye, so a busy server is given a few seconds to
    # count them gone; a connection left open would stay counted.
    deadline = time.monotonic() + 5
    while _connections(backend, name) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _connections(backend, name) == 0


def test_the_pool_size_is_one_setting() -> None:
    assert load_settings({}).database_pool_size == 5
    url = "postgresql://rete@127.0.0.1:5432/rete?schema=s"
    env = load_settings({"RETE_DATABASE_URL": url, "RETE_DATABASE_POOL_SIZE": "7"})
    assert env.eventsourcing_env()["POSTGRES_POOL_SIZE"] == "7"
    assert env.eventsourcing_env()["POSTGRES_MAX_OVERFLOW"] == "0"
    with pytest.raises(SettingsError, match="RETE_DATABASE_POOL_SIZE"):
        load_settings({"RETE_DATABASE_POOL_SIZE": "0"})
