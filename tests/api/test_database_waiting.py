"""``rete serve`` and ``rete views run`` started while the database is away wait and
retry, saying which of the three it is (issue 11, finding 7): unreachable, the
database missing (with the ``createdb`` command to run), or out of connections;
and they carry on once it is back. Against a private cluster
(``support.private_postgres``) or a port where nothing listens.
"""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import psycopg
import pytest
from support.private_postgres import PrivateCluster, private_postgres  # noqa: F401
from support.processes import PROJECT, free_port, stop
from support.served import rete_command

WAIT = 30.0


class Child:
    """A ``rete`` command whose stderr lines are read as they come."""

    def __init__(self, process: subprocess.Popen[str], port: int) -> None:
        self.process = process
        self.port = port
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.put(line)

    def said(self, words: str, within: float = WAIT) -> str:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                continue
            self.seen.append(line)
            if words in line:
                return line
        raise AssertionError(f"never said {words!r}; said: {''.join(self.seen)[-3000:]}")


@contextmanager
def rete(tmp_path: Path, url: str, *args: str) -> Iterator[Child]:
    port = free_port()
    env = {
        **os.environ,
        "RETE_DATABASE_URL": url,
        "RETE_VAR_DIR": str(tmp_path / "var"),
        "RETE_PORT": str(port),
        "RETE_LOG_FORMAT": "json",
    }
    process = subprocess.Popen(
        [sys.executable, *rete_command(*args)],
        cwd=PROJECT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield Child(process, port)
    finally:
        stop(process)


@pytest.mark.long
def test_an_unreachable_database_is_waited_for_and_named(tmp_path: Path) -> None:
    url = f"postgresql://postgres@127.0.0.1:{free_port()}/rete"
    with rete(tmp_path, url, "views", "run") as child:
        line = child.said("Waiting for the database")
        assert "does not answer" in line and "RETE_DATABASE_URL" in line
        assert "retrying in 2 s" in child.said("Waiting for the database")  # back-off
        assert child.process.poll() is None  # still waiting, not exited


@pytest.mark.postgres
@pytest.mark.long
def test_a_missing_database_says_the_createdb_to_run_then_serves(
    private_postgres: PrivateCluster,  # noqa: F811
    tmp_path: Path,
) -> None:
    url = private_postgres.url("rete_missing")
    with rete(tmp_path, url, "serve") as child:
        line = child.said("Waiting for the database")
        command = f"createdb -h 127.0.0.1 -p {private_postgres.port} -U "
        assert "has no database 'rete_missing'" in line and command in line
        private_postgres.create_database("rete_missing")
        deadline = time.monotonic() + WAIT
        while True:  # it carries on, and serves
            try:
                ready = httpx.get(f"http://127.0.0.1:{child.port}/health/ready", timeout=5)
                if ready.status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "it never carried on"
            time.sleep(0.3)


@pytest.mark.postgres
@pytest.mark.long
def test_a_full_server_is_named_and_waited_for(
    private_postgres: PrivateCluster,  # noqa: F811
    tmp_path: Path,
) -> None:
    url = private_postgres.create_database("rete")
    held: list[psycopg.Connection[tuple[object, ...]]] = []
    try:
        with psycopg.connect(url) as probe:
            row = probe.execute(
                "SELECT current_setting('max_connections')::int - count(*) FROM pg_stat_activity"
                " WHERE backend_type = 'client backend'"
            ).fetchone()
        assert row is not None
        for _ in range(int(row[0]) + 1):  # the probe's own slot is free again
            held.append(psycopg.connect(url))
        with rete(tmp_path, url, "views", "run") as child:
            line = child.said("Waiting for the database")
            assert "no connection left" in line and "RETE_DATABASE_POOL_SIZE" in line
            for conn in held:
                conn.close()
            held.clear()
            child.said("Following the log")
    finally:
        for conn in held:
            conn.close()
