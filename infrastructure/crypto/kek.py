"""Key-encryption keys (KEKs): the keys that wrap the data keys, kept outside the database.

A keyring holds numbered KEK versions (32 random bytes each) and names one of
them primary: new wraps use the primary, unwraps use whatever version a wrapped
key names. ``KeyEncryptionKeys`` is the whole interface the key store needs, so
a KMS or Vault Transit (key versions, encrypt with associated data, rewrap) can
stand in for the local keyring.

A wrapped data key (local keyring) is::

    offset  size  field
    0       1     wrap format, 0x01
    1       12    nonce
    13      n     AES-256-GCM ciphertext of the data key (32 bytes for our keys)
    13+n    16    GCM tag

with associated data ``0x01 || KEK version (4 bytes, big-endian) || aad``, where
the caller's ``aad`` binds the wrapped key to its key id and scope.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final, Protocol

import structlog

from infrastructure.crypto.keyfile import (
    FileStamp,
    PrivateFileError,
    create_private,
    exclusive_lock,
    read_private,
    replace_private,
    stamp_of,
)
from infrastructure.crypto.keyring import KEK_SIZE, KekError, KeyringData, parse_keyring
from infrastructure.crypto.sealing import NONCE_SIZE, TAG_SIZE, IntegrityError, aead_open, aead_seal

WRAP_FORMAT: Final = 0x01
DEV_KEYRING_NAME: Final = "dev-kek.json"
# The names the settings are proposed to read; used here only in messages.
KEK_ENV: Final = "RETE_KEK"
KEK_FILE_ENV: Final = "RETE_KEK_FILE"

__all__ = [  # the keyring's contents are re-exported: one import for the KEK
    "KEK_SIZE",
    "FileKeyring",
    "KekError",
    "KeyEncryptionKeys",
    "Keyring",
    "KeyringData",
    "PrimaryChanged",
    "UnwrapError",
    "create_key_file",
    "load_keyring",
    "parse_keyring",
]

log = structlog.get_logger(__name__)


class UnwrapError(Exception):
    """A wrapped data key did not unwrap: another KEK, or the stored bytes were altered."""


class KeyEncryptionKeys(Protocol):
    """What the key store needs of a KEK provider (local keyring, KMS, Vault Transit)."""

    def primary_version(self) -> int:
        """The version new wraps use."""
        ...

    def versions(self) -> tuple[int, ...]:
        """Every version this provider can unwrap with, ascending."""
        ...

    def wrap(self, version: int, data_key: bytes, aad: bytes) -> bytes:
        """``data_key`` encrypted under KEK ``version``, bound to ``aad``."""
        ...

    def unwrap(self, version: int, wrapped: bytes, aad: bytes) -> bytes:
        """The data key; ``UnwrapError`` if ``wrapped``/``aad`` do not match."""
        ...

    def rotate(self) -> int:
        """Add a new version, make it primary, return it (old versions stay)."""
        ...

    def retire_all_but(self, primary: int) -> list[int]:
        """Destroy every version but ``primary``, which must still be the primary
        (else ``PrimaryChanged``: someone rotated meanwhile); returns the versions
        destroyed. Nothing wrapped under them, in the database or in any copy of it,
        can be unwrapped here again."""
        ...


class PrimaryChanged(KekError):
    """The KEK was rotated while its older versions were being retired: rewrap, retry."""


# -- the local keyring --------------------------------------------------------


def _wrap_aad(version: int, aad: bytes) -> bytes:
    return bytes([WRAP_FORMAT]) + version.to_bytes(4, "big") + aad


class Keyring:
    """A keyring held in memory (from an environment variable, or for tests).

    ``rotate()`` adds a version in memory only; a keyring read from an
    environment variable refuses it, since we cannot write the operator's secret.
    """

    def __init__(self, data: KeyringData, *, source: str, rotatable: bool = True) -> None:
        self._data = data
        self.source = source
        self._rotatable = rotatable

    @property
    def development(self) -> bool:
        return self._data.development

    def primary_version(self) -> int:
        return self._data.primary

    def versions(self) -> tuple[int, ...]:
        return tuple(sorted(self._data.keys))

    def wrap(self, version: int, data_key: bytes, aad: bytes) -> bytes:
        kek = self._key(version)
        nonce = os.urandom(NONCE_SIZE)
        sealed = aead_seal(kek, nonce, data_key, _wrap_aad(version, aad))
        return bytes([WRAP_FORMAT]) + nonce + sealed

    def unwrap(self, version: int, wrapped: bytes, aad: bytes) -> bytes:
        kek = self._key(version)
        if len(wrapped) < 1 + NONCE_SIZE + TAG_SIZE or wrapped[0] != WRAP_FORMAT:
            raise UnwrapError(f"not a wrapped key of format 0x{WRAP_FORMAT:02x}")
        try:
            return aead_open(
                kek, wrapped[1 : 1 + NONCE_SIZE], wrapped[1 + NONCE_SIZE :], _wrap_aad(version, aad)
            )
        except IntegrityError:
            raise UnwrapError(
                f"a data key did not unwrap under KEK version {version}: wrong KEK, "
                "or the wrapped key was altered or copied from another key id or scope"
            ) from None

    def rotate(self) -> int:
        if not self._rotatable:
            raise KekError(
                f"the KEK comes from {self.source}, which Rete cannot write: add a new "
                'version to it yourself, make it "primary", restart, then rewrap the data keys'
            )
        self._data = self._data.with_new_version()
        return self._data.primary

    def retire_all_but(self, primary: int) -> list[int]:
        if not self._rotatable:
            raise KekError(
                f"the KEK comes from {self.source}, which Rete cannot write: remove every "
                f"version but {primary} from it yourself (and from every copy), restart"
            )
        self._data, retired = _retired(self._data, primary)
        return retired

    def _key(self, version: int) -> bytes:
        try:
            return self._data.keys[version]
        except KeyError:
            raise KekError(f"KEK version {version} is not in {self.source}") from None


class FileKeyring(Keyring):
    """A keyring in a 0600 JSON file. Rotation rewrites the file atomically under a
    lock; other processes pick up a replaced file when they meet a version they do
    not know or are about to wrap."""

    def __init__(self, path: Path, data: KeyringData, stamp: FileStamp) -> None:
        super().__init__(data, source=f"the KEK file {path}")
        self.path = path
        self._stamp = stamp

    @classmethod
    def open(cls, path: Path) -> FileKeyring:
        data, stamp = _read_keyring_file(path)
        return cls(path, data, stamp)

    def versions(self) -> tuple[int, ...]:
        # Asked when an erasure is recorded and its completion checked: a version
        # retired by another process must not count as held here.
        self._reload_if_changed()
        return super().versions()

    def primary_version(self) -> int:
        # Only key creation and rewrapping ask; one stat() is cheap there, and it
        # keeps a long-running worker from wrapping under a superseded version.
        self._reload_if_changed()
        return super().primary_version()

    def unwrap(self, version: int, wrapped: bytes, aad: bytes) -> bytes:
        if version not in self._data.keys:
            self._reload_if_changed()  # another process may have rotated
        return super().unwrap(version, wrapped, aad)

    def rotate(self) -> int:
        # Read-modify-write under an exclusive lock, from the file as it is now:
        # two rotations at once must never drop a version something is wrapped under.
        with exclusive_lock(self.path):
            current, _ = _read_keyring_file(self.path)
            rotated = current.with_new_version()
            replace_private(self.path, rotated.to_json())
            self._data, self._stamp = _read_keyring_file(self.path)
        log.info("KEK rotated", kek_version=rotated.primary, key_file=str(self.path))
        return rotated.primary

    def retire_all_but(self, primary: int) -> list[int]:
        # Under the same lock as rotation, from the file as it is now.
        with exclusive_lock(self.path):
            current, _ = _read_keyring_file(self.path)
            kept, retired = _retired(current, primary)
            if retired:
                replace_private(self.path, kept.to_json())
            self._data, self._stamp = _read_keyring_file(self.path)
        log.info("KEK versions retired", kek_versions=retired, key_file=str(self.path))
        return retired

    def _reload_if_changed(self) -> None:
        if stamp_of(self.path) != self._stamp:
            self._data, self._stamp = _read_keyring_file(self.path)


def _retired(data: KeyringData, primary: int) -> tuple[KeyringData, list[int]]:
    if data.primary != primary:
        raise PrimaryChanged(f"KEK version {data.primary} is primary now, not {primary}")
    retired = sorted(v for v in data.keys if v != primary)
    return data.without(retired), retired


def _read_keyring_file(path: Path) -> tuple[KeyringData, FileStamp]:
    try:
        raw, stamp = read_private(path)
    except PrivateFileError as exc:
        raise KekError(f"KEK file: {exc}") from None
    data = parse_keyring(raw, f"the KEK file {path}")
    return data, stamp


def create_key_file(path: Path, *, development: bool = False) -> FileKeyring:
    """Write a new keyring (one random version) to ``path`` with mode 0600.
    Refuses to overwrite an existing file."""
    if not create_private(path, KeyringData.fresh(development=development).to_json()):
        raise KekError(f"{path} already exists; not overwriting a KEK file")
    return FileKeyring.open(path)


def load_keyring(*, env_value: str | None, key_file: Path | None, var_dir: Path) -> Keyring:
    """The KEK from configuration: an environment variable's value (JSON keyring or a
    single base64 key), else a key file, else a development keyring under ``var_dir``
    (created on first run, with a loud warning)."""
    if env_value and env_value.strip():
        if key_file is not None:
            raise KekError(f"set {KEK_ENV} or {KEK_FILE_ENV}, not both")
        data = parse_keyring(env_value, f"the environment variable {KEK_ENV}")
        return Keyring(data, source=f"the environment variable {KEK_ENV}", rotatable=False)
    if key_file is not None:
        return FileKeyring.open(key_file)
    dev_path = var_dir / DEV_KEYRING_NAME
    try:
        created = create_private(dev_path, KeyringData.fresh(development=True).to_json())
    except OSError as e:
        raise KekError(
            f"cannot create the development key-encryption key {dev_path}: {e.strerror}"
        ) from None
    if created:
        log.warning(
            f"created a DEVELOPMENT key-encryption key next to the database it protects, "
            f"so it protects nothing: for real data set {KEK_FILE_ENV} or {KEK_ENV}",
            key_file=str(dev_path),
        )
    return FileKeyring.open(dev_path)
