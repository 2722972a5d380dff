"""The PostgreSQL connection budget (issue 11, done-when 7), counted from the server's
side on a private cluster of PostgreSQL's default size (100 connections) that
nothing else uses:

* the test suite, run as ``make test`` runs it (the Makefile's xdist workers), never
  holds more than 10 connections a worker at once, and passes while another client
  holds all but that budget (and 5 more) of the server's connections;
* ``rete serve --workers 4`` plus ``rete views run``, with the pool sizes of
  ``docs/deploy/``, stays within 20 while clients create cases.

Both are ``slow``: the first runs a PostgreSQL part of the suite (``RETE_BUDGET_TESTS``
names the paths, ``RETE_BUDGET_MARKS`` the markers; ``tests`` and ``not slow`` for
what ``make test`` runs). Run them with
``pytest -n 0 -m slow -s tests/test_connection_budget.py``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import psycopg
import pytest
from support.private_postgres import PrivateCluster, private_cluster
from support.processes import PROJECT
from support.served import served

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

BUDGET = 20
# As the Makefile's PYTEST_ARGS.
WORKERS = int(re.search(r"PYTEST_ARGS \?= -n (\d+)", (PROJECT / "Makefile").read_text())[1])
SUITE_BUDGET = 10 * WORKERS
LEFT_FREE = SUITE_BUDGET + 5  # connections the other client leaves to the suite
HOLDER, SAMPLER = "budget-holder", "budget-sampler"
# A PostgreSQL part of the suite: the packages that build the most applications
# at once (several workers or desks per test), the key and idempotency stores and
# the HTTP API over PostgreSQL.
DEFAULT_SUBSET = (
    "tests/application tests/views tests/ledger_store tests/crypto "
    "tests/test_idempotency_store.py tests/api/test_idempotent_writes.py"
)


class Peak:
    """Samples, every 50 ms, the client connections that are neither the holder's nor
    its own: the highest count seen is ``peak``."""

    def __init__(self, url: str) -> None:
        self.url, self.peak, self.samples = url, 0, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with psycopg.connect(self.url, autocommit=True, application_name=SAMPLER) as conn:
            while not self._stop.is_set():
                row = conn.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'"
                    " AND application_name NOT IN (%s, %s)",
                    (HOLDER, SAMPLER),
                ).fetchone()
                assert row is not None
                self.peak, self.samples = max(self.peak, int(row[0])), self.samples + 1
                self._stop.wait(0.05)

    def __enter__(self) -> Peak:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)


@contextmanager
def crowded(cluster: PrivateCluster, leave: int) -> Iterator[int]:
    """Another client holding all but ``leave`` of the server's connections (the
    reserved superuser slots included: they are the ones left); yields how many."""
    with psycopg.connect(cluster.url(), autocommit=True) as conn:
        row = conn.execute("SHOW max_connections").fetchone()
    assert row is not None
    held = int(row[0]) - leave
    with ExitStack() as stack:
        for _ in range(held):
            stack.enter_context(psycopg.connect(cluster.url(), application_name=HOLDER))
        yield held


@pytest.fixture
def cluster() -> Iterator[PrivateCluster]:
    """A private cluster of PostgreSQL's default size, with the suite's ``test`` database."""
    with private_cluster(max_connections=100) as made:
        made.create_database("test")
        yield made


def test_the_suite_stays_within_10_connections_a_worker_and_passes_on_a_crowded_server(
    cluster: PrivateCluster,
) -> None:
    subset = os.environ.get("RETE_BUDGET_TESTS", DEFAULT_SUBSET).split()
    marks = os.environ.get("RETE_BUDGET_MARKS", "postgres and not slow")
    env = {
        **os.environ,
        "RETE_TEST_POSTGRES_URL": cluster.url("test"),
        # A PostgreSQL test skipped for want of a connection fails the run.
        "CI": "true",
    }
    with crowded(cluster, LEFT_FREE) as held, Peak(cluster.url()) as peak:
        run = subprocess.run(
            [sys.executable, "-m", "pytest", "-n", str(WORKERS), "-p", "no:cacheprovider", "-q",
             "--durations=30", "-m", marks, *subset],
            cwd=PROJECT, env=env, capture_output=True, text=True, timeout=3600,
        )  # fmt: skip
    print(f"held {held}; the suite's peak {peak.peak} connections ({peak.samples} samples)")
    print(run.stdout[-6000:])
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert peak.samples > 0
    assert peak.peak <= SUITE_BUDGET


def test_four_workers_and_the_views_runner_stay_within_20_connections(
    cluster: PrivateCluster, tmp_path: Path
) -> None:
    env = {
        "RETE_DATABASE_URL": cluster.create_database("rete"),
        "RETE_VAR_DIR": str(tmp_path / "var"),
        "RETE_DATABASE_POOL_SIZE": "4",  # docs/deploy/rete-serve.service
    }
    with Peak(cluster.url()) as peak, served(env, tmp_path / "serve.log", "--workers", "4") as s:
        runner = subprocess.Popen(
            [sys.executable, "-c", "from api.cli import main; main()", "views", "run"],
            cwd=PROJECT,
            env={**os.environ, **env, "RETE_DATABASE_POOL_SIZE": "2"},  # rete-views.service
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            created = _create_cases(s.base, s.headers("anna"), threads=32, seconds=10.0)
            time.sleep(2.0)  # the runner catches up on them
        finally:
            runner.terminate()
            runner.wait(30)
    print(f"{created} cases created; peak {peak.peak} connections ({peak.samples} samples)")
    assert created > 0
    assert peak.peak <= BUDGET


def _create_cases(base: str, headers: dict[str, str], threads: int, seconds: float) -> int:
    created: list[int] = []
    until = time.monotonic() + seconds

    def create() -> None:
        with httpx.Client(base_url=base, timeout=30.0) as http:
            while time.monotonic() < until:
                if http.post("/api/v1/cases/", headers=headers).status_code == 201:
                    created.append(1)

    workers = [threading.Thread(target=create) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)
    return len(created)
