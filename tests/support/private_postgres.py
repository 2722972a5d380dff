"""A PostgreSQL cluster of the test's own, for tests that fill, stop or break one
(never the shared server): started on a free port as the ``postgres`` OS user,
stopped and removed at the end. Needs root and PostgreSQL's server programs;
elsewhere the test is skipped and says why.

``data_size``: the data directory on a tmpfs of that size (``support.small_filesystem``),
its write-ahead log kept apart on the ordinary disk, so filling the data directory
refuses writes (``53100 disk_full``) without stopping the server.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from support.small_filesystem import can_mount, small_filesystem

_USER = "postgres"


@dataclass(frozen=True)
class Cluster:
    url: str  # postgresql://postgres@127.0.0.1:<port>/postgres
    data: Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _as_postgres(*command: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        ["runuser", "-u", _USER, "--", *command], capture_output=True, check=False
    )


@contextlib.contextmanager
def private_postgres(data_size: str | None = None) -> Iterator[Cluster]:
    if not can_mount():
        pytest.skip("a private PostgreSQL cluster is started as root")
    if shutil.which("initdb") is None or shutil.which("pg_ctl") is None:
        pytest.skip("PostgreSQL's server programs (initdb, pg_ctl) are not installed")
    # Outside the test's tmp_path: the postgres user must reach it.
    root = Path(tempfile.mkdtemp(prefix="rete-pg-"))
    root.chmod(0o755)
    data, wal = root / "data", root / "wal"
    with contextlib.ExitStack() as stack:
        stack.callback(shutil.rmtree, root, ignore_errors=True)
        if data_size is not None:
            stack.enter_context(small_filesystem(data, data_size))
        data.mkdir(exist_ok=True)
        shutil.chown(root, _USER, _USER)
        # The log apart only when the data directory is small: otherwise the whole
        # cluster, log included, is under ``data`` (a test copies it as a backup would).
        apart = ["--waldir", str(wal)] if data_size is not None else []
        for d in (data, wal) if apart else (data,):
            d.mkdir(exist_ok=True)
            shutil.chown(d, _USER, _USER)
            d.chmod(0o700)
        done = _as_postgres(
            "initdb", "-D", str(data), *apart, "-A", "trust", "-U", _USER, "--no-sync"
        )
        if done.returncode != 0:
            pytest.skip(f"initdb failed: {done.stderr.decode(errors='replace')[-300:]}")
        port = _free_port()
        options = (
            f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c max_connections=40 -c shared_buffers=16MB"
        )
        done = _as_postgres(
            "pg_ctl", "-D", str(data), "-l", str(root / "log"), "-o", options, "-w", "start"
        )
        if done.returncode != 0:
            pytest.skip(f"pg_ctl start failed: {done.stderr.decode(errors='replace')[-300:]}")
        stack.callback(_as_postgres, "pg_ctl", "-D", str(data), "-m", "immediate", "stop")
        yield Cluster(f"postgresql://{_USER}@127.0.0.1:{port}/postgres", data)
