"""Key-encryption keys: where they come from, how they wrap, how they rotate."""

from __future__ import annotations

import base64
import json
import os
import stat
import threading
from pathlib import Path

import pytest
import structlog.testing

from infrastructure.crypto.kek import (
    DEV_KEYRING_NAME,
    FileKeyring,
    KekError,
    Keyring,
    KeyringData,
    UnwrapError,
    create_key_file,
    load_keyring,
    parse_keyring,
)


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def b64(key: bytes) -> str:
    return base64.b64encode(key).decode()


# -- the key file --------------------------------------------------------------


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_a_key_file_others_may_read_is_refused(tmp_path: Path, mode: int) -> None:
    path = create_key_file(tmp_path / "kek.json").path
    path.chmod(mode)
    with pytest.raises(KekError, match=f"mode {mode:04o}.*chmod 600"):
        load_keyring(env_value=None, key_file=path, var_dir=tmp_path)


@pytest.mark.parametrize("mode", [0o600, 0o400])
def test_a_private_key_file_is_accepted(tmp_path: Path, mode: int) -> None:
    path = create_key_file(tmp_path / "kek.json").path
    assert mode_of(path) == 0o600
    path.chmod(mode)
    keyring = load_keyring(env_value=None, key_file=path, var_dir=tmp_path)
    assert keyring.versions() == (1,) and keyring.primary_version() == 1


def test_a_named_key_file_that_is_missing_is_an_error_not_a_new_key(tmp_path: Path) -> None:
    with pytest.raises(KekError, match="does not exist"):
        load_keyring(env_value=None, key_file=tmp_path / "nope.json", var_dir=tmp_path)
    assert not (tmp_path / "nope.json").exists()


def test_create_key_file_never_overwrites(tmp_path: Path) -> None:
    path = create_key_file(tmp_path / "kek.json").path
    before = path.read_bytes()
    with pytest.raises(KekError, match="already exists"):
        create_key_file(path)
    assert path.read_bytes() == before


def test_the_development_keyring_is_created_once_private_and_loudly(tmp_path: Path) -> None:
    var = tmp_path / "var"
    with structlog.testing.capture_logs() as logs:
        first = load_keyring(env_value=None, key_file=None, var_dir=var)
    path = var / DEV_KEYRING_NAME
    assert mode_of(path) == 0o600
    assert first.development
    assert [e["log_level"] for e in logs] == ["warning"]
    assert "DEVELOPMENT key-encryption key" in logs[0]["event"]
    data_key = os.urandom(32)
    wrapped = first.wrap(1, data_key, b"aad")
    again = load_keyring(env_value=None, key_file=None, var_dir=var)
    assert again.unwrap(1, wrapped, b"aad") == data_key  # the same key, not a new one


# -- the environment variable --------------------------------------------------


def test_the_environment_may_hold_a_keyring_or_a_single_key() -> None:
    k1, k2 = os.urandom(32), os.urandom(32)
    document = json.dumps({"primary": 2, "keys": {"1": b64(k1), "2": b64(k2)}})
    keyring = load_keyring(env_value=document, key_file=None, var_dir=Path("unused"))
    assert keyring.versions() == (1, 2) and keyring.primary_version() == 2
    single = load_keyring(env_value=b64(k1), key_file=None, var_dir=Path("unused"))
    assert single.versions() == (1,)
    assert single.unwrap(1, keyring.wrap(1, b"k" * 32, b""), b"") == b"k" * 32


def test_a_keyring_from_the_environment_cannot_rotate_itself() -> None:
    keyring = load_keyring(env_value=b64(os.urandom(32)), key_file=None, var_dir=Path("x"))
    with pytest.raises(KekError, match="cannot write"):
        keyring.rotate()


def test_environment_and_file_together_are_ambiguous(tmp_path: Path) -> None:
    path = create_key_file(tmp_path / "kek.json").path
    with pytest.raises(KekError, match="not both"):
        load_keyring(env_value=b64(os.urandom(32)), key_file=path, var_dir=tmp_path)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("not base64!", "not valid base64"),
        (b64(b"short"), "decodes to 5 bytes"),
        ('{"primary": 2, "keys": {"1": "%s"}}', "primary KEK version 2"),
        ('{"primary": 1, "keys": {"01": "%s"}}', "not a whole number"),
        ('{"primary": 1, "keys": {}}', '"keys"'),
        ('{"primay": 1, "keys": {"1": "%s"}}', "unknown fields"),
        ('{"primary": 1, "keys": {"1": "%s", "2": "%s"}}', "same key"),
        ("{broken", "not valid JSON"),
    ],
    ids=["base64", "length", "primary", "version", "empty", "typo", "duplicate", "json"],
)
def test_a_malformed_keyring_is_refused_without_echoing_keys(text: str, problem: str) -> None:
    key = b64(os.urandom(32))
    text = text.replace("%s", key)
    with pytest.raises(KekError, match=problem) as refused:
        parse_keyring(text, "the test input")
    assert key not in str(refused.value) and "the test input" in str(refused.value)


def test_key_material_never_shows_in_repr() -> None:
    data = KeyringData.fresh()
    assert b64(data.keys[1]) not in repr(data) and data.keys[1].hex() not in repr(data)


# -- wrapping ---------------------------------------------------------------------


def test_a_wrapped_key_opens_only_with_its_version_and_its_binding() -> None:
    keyring = Keyring(KeyringData.fresh(), source="test")
    keyring.rotate()
    data_key = os.urandom(32)
    wrapped = keyring.wrap(2, data_key, b"key id 1 / case:a")
    assert len(wrapped) == 1 + 12 + 32 + 16
    assert keyring.unwrap(2, wrapped, b"key id 1 / case:a") == data_key
    with pytest.raises(UnwrapError):
        keyring.unwrap(2, wrapped, b"key id 1 / case:b")  # copied to another scope
    with pytest.raises(UnwrapError):
        keyring.unwrap(1, wrapped, b"key id 1 / case:a")  # another KEK version
    with pytest.raises(UnwrapError):
        keyring.unwrap(2, wrapped[:-1] + bytes([wrapped[-1] ^ 1]), b"key id 1 / case:a")
    with pytest.raises(KekError, match="version 9"):
        keyring.unwrap(9, wrapped, b"key id 1 / case:a")


# -- rotation of a key file -----------------------------------------------------------


def test_rotation_adds_a_primary_version_atomically_and_keeps_0600(tmp_path: Path) -> None:
    keyring = create_key_file(tmp_path / "kek.json")
    old = keyring.wrap(1, b"d" * 32, b"")
    assert keyring.rotate() == 2
    assert keyring.primary_version() == 2 and keyring.versions() == (1, 2)
    assert mode_of(keyring.path) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kek.json", "kek.json.lock"]
    reread = FileKeyring.open(keyring.path)
    assert reread.versions() == (1, 2) and reread.unwrap(1, old, b"") == b"d" * 32


def test_another_process_sees_a_rotation(tmp_path: Path) -> None:
    here = create_key_file(tmp_path / "kek.json")
    there = FileKeyring.open(here.path)  # loaded before the rotation
    here.rotate()
    wrapped = here.wrap(2, b"n" * 32, b"")
    assert there.unwrap(2, wrapped, b"") == b"n" * 32
    assert there.primary_version() == 2


def test_stale_rotations_never_drop_a_version(tmp_path: Path) -> None:
    first = create_key_file(tmp_path / "kek.json")
    second = FileKeyring.open(first.path)
    first.rotate()
    second.rotate()  # its memory knows only version 1; the file knows 2
    assert FileKeyring.open(first.path).versions() == (1, 2, 3)
    threads = [threading.Thread(target=FileKeyring.open(first.path).rotate) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert FileKeyring.open(first.path).versions() == tuple(range(1, 12))


def test_a_link_to_a_key_file_is_judged_by_the_file_it_leads_to(tmp_path: Path) -> None:
    target = create_key_file(tmp_path / "secret" / "kek.json").path
    link = tmp_path / "kek.json"
    link.symlink_to(target)
    assert load_keyring(env_value=None, key_file=link, var_dir=tmp_path).versions() == (1,)
    target.chmod(0o644)
    with pytest.raises(KekError, match="0644"):
        load_keyring(env_value=None, key_file=link, var_dir=tmp_path)
