"""Several caseworkers writing at once on SQLite, while every background task runs.

The ledger signs a checkpoint every 0.1 s (following the log between) and the
escalation policy runs every 0.1 s: writers must never wait on them. Each
caseworker opens cases and reads each one back, and her service's list (the
views catch up before it). Every request is answered without a 5xx, none takes
over 2 s.
"""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest
from support.http import Api

from infrastructure.db.opening import open_database
from infrastructure.settings import Settings, load_settings

WRITERS = 6
SECONDS = 3.0
SLOWEST = 2.0


@pytest.mark.long
def test_writers_never_wait_on_the_background(make_api, sqlite_env) -> None:
    env = {
        **sqlite_env,
        # `make run`'s pool (the suite's default of 2 keeps PostgreSQL's budget;
        # SQLite has none, and six writers beside the background work need more).
        "RETE_DATABASE_POOL_SIZE": str(Settings.database_pool_size),
        "RETE_CHECKPOINT_INTERVAL": "0.1",
        "RETE_ESCALATION_INTERVAL": "0.1",
    }
    settings = load_settings(env)
    assert settings.checkpoint_interval_seconds > 0 and settings.escalation_interval_seconds > 0
    api: Api = make_api(env)
    headers = api.headers("anna")  # minted once, before the threads share it
    statuses: list[int] = []
    slowest: list[float] = []
    errors: list[BaseException] = []
    end = time.monotonic() + SECONDS

    def write() -> None:
        try:
            while time.monotonic() < end:
                # A case opened, then its page (a read that records itself in the
                # access log) and the service's list (the views caught up first).
                started = time.monotonic()
                response = api.client.post("/api/v1/cases", headers=headers)
                slowest.append(time.monotonic() - started)
                statuses.append(response.status_code)
                if response.status_code != 201:
                    continue
                case = response.json()["reference_code"]
                for path in (f"/api/v1/cases/{case}", "/api/v1/cases"):
                    started = time.monotonic()
                    read = api.client.get(path, headers=headers)
                    slowest.append(time.monotonic() - started)
                    statuses.append(read.status_code)
        except BaseException as e:  # reported below, not lost in the thread
            errors.append(e)

    threads = [threading.Thread(target=write) for _ in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert not errors
    assert statuses, "no request was answered"
    failed = [s for s in statuses if s >= 500]
    assert failed == [], f"{len(failed)} of {len(statuses)} answered 5xx"
    assert set(statuses) == {200, 201}
    assert max(slowest) < SLOWEST, f"the slowest request took {max(slowest):.2f} s"


def test_the_event_stores_writes_take_the_write_lock_when_they_begin(tmp_path) -> None:
    """A deferred ``BEGIN`` would take it at the first write, and fail at once (no
    busy wait) if another process wrote since its snapshot."""
    database = open_database(f"sqlite:///{tmp_path / 'rete.sqlite'}", 2)
    try:
        with database.datastore.transaction(commit=True):
            other = sqlite3.connect(tmp_path / "rete.sqlite", timeout=0, isolation_level=None)
            try:
                with pytest.raises(sqlite3.OperationalError, match="locked"):
                    other.execute("BEGIN IMMEDIATE")
            finally:
                other.close()
    finally:
        database.close()
