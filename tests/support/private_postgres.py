"""A PostgreSQL cluster of the test's own, on a free port, for tests that need what
the shared server cannot give them: its whole data directory, or stopping it.

Made with ``initdb``/``pg_ctl`` run as the ``postgres`` OS user (``runuser``), so the
test process must run as root; otherwise the test is skipped (there is no such
cluster to make). Removed, data directory and all, when the block ends.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

_OWNER = "postgres"


@dataclass(frozen=True)
class PrivateCluster:
    data_directory: Path
    url: str  # superuser, trust authentication, on 127.0.0.1


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_owner(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["runuser", "-u", _OWNER, "--", *command],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )


@contextmanager
def private_cluster() -> Iterator[PrivateCluster]:
    if os.geteuid() != 0 or not (shutil.which("initdb") and shutil.which("pg_ctl")):
        pytest.skip("a private PostgreSQL cluster needs root and initdb/pg_ctl on PATH")
    try:
        owner = pwd.getpwnam(_OWNER)
    except KeyError:
        pytest.skip(f"no {_OWNER} OS user to run a private cluster as")
    root = Path(tempfile.mkdtemp(prefix="rete-pg-"))
    os.chown(root, owner.pw_uid, owner.pw_gid)
    data = root / "data"
    port = _free_port()
    started = False
    try:
        _as_owner(
            shutil.which("initdb") or "initdb",
            "--pgdata",
            str(data),
            "--auth",
            "trust",
            "--username",
            "postgres",
            "--no-sync",
        )
        options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
        _as_owner(
            shutil.which("pg_ctl") or "pg_ctl",
            "--pgdata",
            str(data),
            "--options",
            options,
            "--log",
            str(root / "server.log"),
            "--wait",
            "start",
        )
        started = True
        yield PrivateCluster(data, f"postgresql://postgres@127.0.0.1:{port}/postgres")
    finally:
        if started:
            _as_owner(
                shutil.which("pg_ctl") or "pg_ctl", "--pgdata", str(data), "-m", "fast", "stop"
            )
        shutil.rmtree(root, ignore_errors=True)
