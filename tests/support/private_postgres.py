"""A PostgreSQL cluster of a test's own, for tests that stop, fill or break the
database (the shared server must stay up for everyone else).

``PrivateCluster`` runs ``initdb``/``pg_ctl`` as the ``postgres`` OS user (through
``runuser`` when the tests run as root), on a free port of 127.0.0.1, with trust
authentication, in a temporary directory removed afterwards. The ``private_postgres``
fixture (``tests/conftest.py`` need not know it: import it into a test module or a
``conftest.py``) skips where the binaries or the user are missing, except under
``CI=true``. ``private_cluster`` is the same as a ``with`` block, for a test that
needs a cluster of its own shape.

``data_size``: the data directory on a tmpfs of that size (``support.small_filesystem``),
its write-ahead log kept apart on the ordinary disk, so that filling the data
directory refuses writes (``53100 disk_full``) without stopping the server. Without
it the whole cluster, log included, is under ``data`` (a test copies it as a
file-level backup would).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from support.small_filesystem import small_filesystem

_OS_USER = "postgres"
# This process's pristine data directory, copied for each cluster (``_template``).
_template_data: Path | None = None


def _binary(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    for candidate in sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), reverse=True):
        return str(candidate)
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PrivateCluster:
    """One cluster: ``start``, ``stop`` (fast: sessions are ended), ``url``."""

    def __init__(self, max_connections: int = 50, data_size: str | None = None) -> None:
        initdb, pg_ctl = _binary("initdb"), _binary("pg_ctl")
        if initdb is None or pg_ctl is None:
            raise RuntimeError("initdb/pg_ctl not found")
        self._pg_ctl = pg_ctl
        self._as_postgres = os.geteuid() == 0
        if self._as_postgres:
            pwd.getpwnam(_OS_USER)  # KeyError: no such user
        self.root = Path(tempfile.mkdtemp(prefix="rete-pg-"))
        self.root.chmod(0o755)
        self.data = self.root / "data"
        self._mounts = contextlib.ExitStack()
        apart: list[str] = []
        if data_size is not None:
            self._mounts.enter_context(small_filesystem(self.data, data_size))
            apart = ["--waldir", str(self.root / "wal")]
        self.port = _free_port()
        self.user = _OS_USER if self._as_postgres else pwd.getpwuid(os.geteuid()).pw_name
        if self._as_postgres:
            shutil.chown(self.root, _OS_USER)
            if data_size is not None:
                shutil.chown(self.data, _OS_USER)
        if data_size is None:
            # A copy of the process's pristine cluster: initdb once, not per test.
            self._run(["cp", "-a", str(self._template(initdb)), str(self.data)])
        else:
            self._run(
                [initdb, "-D", str(self.data), *apart, "-U", self.user, "--auth=trust",
                 "-E", "UTF8", "--no-sync"]
            )  # fmt: skip
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(
                f"port = {self.port}\nlisten_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{self.root}'\nmax_connections = {max_connections}\n"
                "fsync = off\nshared_buffers = 16MB\n"
            )

    def _template(self, initdb: str) -> Path:
        """The data directory ``initdb`` makes, made once per process (a test worker)
        and copied for each cluster; removed when the process exits."""
        global _template_data
        if _template_data is None:
            root = Path(tempfile.mkdtemp(prefix="rete-pg-template-"))
            root.chmod(0o755)
            if self._as_postgres:
                shutil.chown(root, _OS_USER)
            atexit.register(shutil.rmtree, root, ignore_errors=True)
            data = root / "data"
            self._run(
                [initdb, "-D", str(data), "-U", self.user, "--auth=trust", "-E", "UTF8",
                 "--no-sync"]
            )  # fmt: skip
            _template_data = data
        return _template_data

    def _run(self, args: list[str]) -> None:
        command = ["runuser", "-u", _OS_USER, "--", *args] if self._as_postgres else args
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{dbname}"

    def start(self) -> None:
        self._run(
            [self._pg_ctl, "-D", str(self.data), "-l", str(self.root / "log"), "-w", "-t", "60",
             "start"]
        )  # fmt: skip

    def stop(self) -> None:
        self._run([self._pg_ctl, "-D", str(self.data), "-m", "fast", "-w", "-t", "60", "stop"])

    def wait_accepting(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with psycopg.connect(self.url(), connect_timeout=2):
                    return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def create_database(self, name: str) -> str:
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def destroy(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):  # it was not running
            self._run([self._pg_ctl, "-D", str(self.data), "-m", "immediate", "stop"])
        self._mounts.close()
        shutil.rmtree(self.root, ignore_errors=True)


@contextlib.contextmanager
def private_cluster(
    data_size: str | None = None, max_connections: int = 50
) -> Iterator[PrivateCluster]:
    """A running private cluster, destroyed at the end of the block."""
    try:
        cluster = PrivateCluster(max_connections=max_connections, data_size=data_size)
    except (RuntimeError, KeyError, subprocess.CalledProcessError) as e:
        if os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}:
            raise
        pytest.skip(f"no private PostgreSQL cluster here: {e}")
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.destroy()


@pytest.fixture
def private_postgres() -> Iterator[PrivateCluster]:
    """A running private cluster, destroyed after the test."""
    with private_cluster() as cluster:
        yield cluster
