"""``/health/live`` (the process answers) and ``/health/ready`` (it can take a write
now: the database takes one, every readiness check passes, integrity is not in
doubt), on both backends, and while a private PostgreSQL cluster is stopped
(issue 11, finding 2)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from database_pulled import without_its_database
from litestar.testing import TestClient
from support.private_postgres import PrivateCluster, private_postgres  # noqa: F401

from api.app import create_app
from application.integrity import IntegrityAlarm
from infrastructure.bootstrap import build_rete
from infrastructure.db import database_of
from infrastructure.health import Readiness, ReadinessCheck
from infrastructure.settings import SettingsError, load_settings


def test_ready_and_live_answer_200_on_both_backends(any_backend_api):
    api = any_backend_api
    assert api.client.get("/health/live").json() == {"status": "ok"}
    ready = api.client.get("/health/ready")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ok", "database": "ok"}


def test_ready_fails_while_integrity_is_in_doubt(api, problem):
    api.rete.integrity.raise_alarm(
        IntegrityAlarm("view-row-altered", "rete_view_cases row of one case", datetime.now(UTC))
    )
    problem(api.client.get("/health/ready"), 503, "integrity-in-doubt")
    assert api.client.get("/health/live").status_code == 200


def test_a_failing_readiness_check_appended_fails_ready(api, problem):
    readiness = api.rete.readiness
    assert isinstance(readiness, Readiness)
    readiness.append(ReadinessCheck("disk-full", "the disk cannot take a write", lambda: False))
    answer = problem(api.client.get("/health/ready"), 503, "disk-full")
    assert answer["detail"] == "the disk cannot take a write"
    assert api.client.get("/health").status_code == 200  # /health as before


def test_ready_fails_and_live_answers_when_the_database_is_gone(sqlite_env, problem):
    with without_its_database(sqlite_env) as client:
        response = client.get("/health/ready")
        problem(response, 503, "database-unreachable")
        assert response.headers["retry-after"]
        assert client.get("/health/live").status_code == 200


@pytest.mark.postgres
@pytest.mark.long
def test_ready_follows_a_stopped_and_restarted_postgresql(
    private_postgres: PrivateCluster,  # noqa: F811
    tmp_path: Path,
    problem,
) -> None:
    env = {
        "RETE_DATABASE_URL": private_postgres.create_database("rete"),
        "RETE_VAR_DIR": str(tmp_path / "var"),
        "RETE_CHECKPOINT_INTERVAL": "0",
        "RETE_ESCALATION_INTERVAL": "0",
    }
    settings = load_settings(env)
    rete = build_rete(settings)
    try:
        with TestClient(create_app(settings, rete)) as client:
            assert client.get("/health/ready").status_code == 200
            private_postgres.stop()
            for _ in range(3):  # the dead connections are dropped, none hangs
                response = client.get("/health/ready")
                problem(response, 503, "database-unreachable")
                assert response.headers["retry-after"]
                problem(client.get("/health"), 503, "database-unreachable")
            assert client.get("/health/live").status_code == 200
            private_postgres.start()
            deadline = time.monotonic() + 10
            while client.get("/health/ready").status_code != 200:
                assert time.monotonic() < deadline, "not ready again without a restart"
                time.sleep(0.2)
    finally:
        rete.close()


def test_the_time_limits_are_settings_with_bounds():
    settings = load_settings({})
    assert settings.request_timeout == 10.0 and settings.read_timeout == 10.0
    tuned = load_settings({"RETE_REQUEST_TIMEOUT": "4", "RETE_READ_TIMEOUT": "2.5"})
    assert tuned.request_timeout == 4.0 and tuned.read_timeout == 2.5
    for name in ("RETE_REQUEST_TIMEOUT", "RETE_READ_TIMEOUT"):
        for wrong in ("0", "0.5", "301", "soon"):
            with pytest.raises(SettingsError, match=name):
                load_settings({name: wrong})


def test_the_request_timeout_reaches_the_servers_pool(make_rete, backend):
    rete = make_rete(RETE_REQUEST_TIMEOUT="4")
    database = database_of(rete.ctx.store.recorder)
    with database.read() as tx:
        if database.dialect.name != "postgres":
            return  # SQLite: its waits are its busy timeout and the pool's (opening.py)
        assert tx.query("SHOW statement_timeout") == [("4s",)]
        assert tx.query("SHOW lock_timeout") == [("4s",)]
