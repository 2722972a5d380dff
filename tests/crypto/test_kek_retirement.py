"""Retiring KEK versions (issue 10, finding 1): every version but the primary is
destroyed in the key file, never the primary, never one a rotation made meanwhile;
a KEK Rete cannot write is left to the operator, with a message saying how."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from infrastructure.crypto.kek import (
    FileKeyring,
    KekError,
    Keyring,
    KeyringData,
    PrimaryChanged,
    create_key_file,
)


def test_retiring_destroys_every_version_but_the_primary_in_the_file(tmp_path: Path) -> None:
    path = tmp_path / "kek.json"
    keyring = create_key_file(path)
    keyring.rotate()
    keyring.rotate()
    assert keyring.retire_all_but(3) == [1, 2]
    assert sorted(json.loads(path.read_text())["keys"]) == ["3"]
    assert path.stat().st_mode & 0o777 == 0o600
    # Another process holding the file open sees the versions gone.
    assert FileKeyring.open(path).versions() == (3,)
    with pytest.raises(KekError, match="KEK version 1 is not in"):
        keyring.unwrap(1, b"\x01" * 61, b"")


def test_retiring_refuses_when_someone_rotated_meanwhile(tmp_path: Path) -> None:
    path = tmp_path / "kek.json"
    ours = create_key_file(path)
    theirs = FileKeyring.open(path)
    theirs.rotate()  # version 2, in another process: keys may still be under 1
    with pytest.raises(PrimaryChanged):
        ours.retire_all_but(1)
    assert sorted(json.loads(path.read_text())["keys"]) == ["1", "2"]


def test_a_kek_from_the_environment_is_retired_by_the_operator() -> None:
    data = KeyringData(primary=2, keys={1: os.urandom(32), 2: os.urandom(32)})
    keyring = Keyring(data, source="the environment variable RETE_KEK", rotatable=False)
    with pytest.raises(KekError, match="remove every version but 2 from it yourself"):
        keyring.retire_all_but(2)
    assert keyring.versions() == (1, 2)
