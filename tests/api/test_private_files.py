"""Every file the server keeps under ``var/`` is its owner's alone (issue 10, finding 7).

The SQLite database holds sealed personal data and the wrapped case keys; the
development secrets sign tokens and checkpoints. Whatever the process umask,
they are created 0600 (the directory, when the server creates it, 0700), and
database files an older version left readable by others are tightened when
the server opens them.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from litestar.testing import TestClient
from support.http import anna_headers

from api.app import create_app
from infrastructure.settings import load_settings


@pytest.fixture
def loose_umask() -> Iterator[None]:
    """The usual umask of a shell: files 0644 unless the code says otherwise."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def serve_a_little(var: Path) -> None:
    """Start the app as ``rete serve`` does (default settings: SQLite under var/),
    and write a case, so the database, its WAL and every key exist."""
    settings = load_settings({"RETE_VAR_DIR": str(var)})
    with TestClient(create_app(settings)) as client:
        headers = anna_headers(settings, timedelta(minutes=5))
        ref = client.post("/api/v1/cases", headers=headers).json()["reference_code"]
        note = {"category": "violence", "text": "the facts"}
        assert client.post(f"/api/v1/cases/{ref}/notes", json=note, headers=headers).is_success
        modes = files_and_modes(var)
        assert {"rete.sqlite", "rete.sqlite-wal", "rete.sqlite-shm"} <= set(modes)
        assert {"jwt-secret", "ledger-signing.key"} <= set(modes)
        assert_private(var, modes)


def files_and_modes(var: Path) -> dict[str, int]:
    return {
        str(p.relative_to(var)): stat.S_IMODE(p.stat().st_mode)
        for p in var.rglob("*")
        if p.is_file()
    }


def assert_private(var: Path, modes: dict[str, int]) -> None:
    assert stat.S_IMODE(var.stat().st_mode) == 0o700
    loose = {name: oct(mode) for name, mode in modes.items() if mode != 0o600}
    assert not loose, loose


def test_every_file_under_var_is_created_0600(tmp_path, loose_umask):
    var = tmp_path / "var"
    serve_a_little(var)
    assert_private(var, files_and_modes(var))


def test_a_database_left_readable_by_others_is_tightened(tmp_path, loose_umask):
    var = tmp_path / "var"
    serve_a_little(var)
    for name in ("rete.sqlite", "rete.sqlite-wal", "rete.sqlite-shm"):
        if (var / name).exists():
            (var / name).chmod(0o644)
    serve_a_little(var)
    assert_private(var, files_and_modes(var))
