"""``rete`` on a full disk: a command says so in one line and exits 1, reading the
keys it already has rather than trying to write them again, and works once space
is freed. The disk is a real one: a tmpfs of a few megabytes holding the SQLite
database and ``var/`` (``support.small_filesystem``; mounting needs root, elsewhere
the tests are skipped). Each command runs as a process of its own, as an operator
runs it: the database's WAL files are gone between them, as after a restart."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.small_filesystem import fill, free, small_filesystem

RETE = str(Path(sys.executable).with_name("rete"))
FULL = "Error: the storage is full: nothing was written; free space on the database's disk"


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[Path]:
    with small_filesystem(tmp_path / "disk", "4m") as where:
        yield where


def rete(disk: Path, *args: str, var: str = "var") -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": "/usr/bin:/bin",
        "RETE_DATABASE_URL": f"sqlite:///{disk / 'rete.sqlite'}",
        "RETE_VAR_DIR": str(disk / var),
        "RETE_CHECKPOINT_INTERVAL": "0",
    }
    return subprocess.run([RETE, *args], env=env, capture_output=True, text=True, timeout=60)


def test_a_command_on_a_full_disk_says_so_in_one_line_and_works_once_space_is_freed(
    disk: Path,
) -> None:
    token = ["token", "--user", "anna", "--service", "cav-scirocco", "--role", "caseworker"]
    # The database, the development key-encryption key, the ledger's signing key and
    # the development JWT secret.
    for setup in (["keys", "status"], ["ledger", "checkpoint"], token):
        assert rete(disk, *setup).returncode == 0, setup

    fill(disk)
    for command in (["views", "status"], ["ledger", "verify"], ["keys", "status"]):
        done = rete(disk, *command)
        assert done.returncode == 1, (command, done.stderr)
        assert "Traceback" not in done.stderr, done.stderr
        assert done.stderr.strip().splitlines()[-1].startswith(FULL), done.stderr
    # What needs only the keys it has still works: nothing is written.
    minted = rete(disk, *token)
    assert minted.returncode == 0, minted.stderr

    free(disk)
    again = rete(disk, "ledger", "verify")
    assert again.returncode == 0, again.stderr


def test_a_development_key_that_cannot_be_created_for_lack_of_space_is_one_line(
    disk: Path,
) -> None:
    fill(disk)
    done = rete(disk, "views", "status", var="fresh")
    assert done.returncode == 1
    assert "Traceback" not in done.stderr, done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("Error: cannot create the development key-encryption key"), last
    assert last.endswith("No space left on device"), last
