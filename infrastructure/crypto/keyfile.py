"""Private files on disk: read only when 0600, created and replaced atomically.

Used for the KEK file. POSIX only (permissions, ``flock``), like the deployment.
"""

from __future__ import annotations

import fcntl
import os
import secrets
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

from infrastructure.private_files import private_directory


class PrivateFileError(Exception):
    """A private file is missing, not a regular file, or readable by others."""


class FileStamp(NamedTuple):
    """What tells us a file was replaced or changed since we read it."""

    inode: int
    size: int
    mtime_ns: int


def read_private(path: Path) -> tuple[bytes, FileStamp]:
    """The bytes of ``path``, refusing a file any group or other user may access.

    A symbolic link is followed (secret mounts are often links) and the file it
    leads to is the one checked."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        raise PrivateFileError(f"{path} does not exist") from None
    except OSError as exc:
        raise PrivateFileError(f"{path} cannot be opened: {exc.strerror}") from None
    with os.fdopen(fd, "rb") as file:
        # fstat on the open descriptor: the file checked is the file read.
        info = os.fstat(file.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise PrivateFileError(f"{path} is not a regular file")
        mode = stat.S_IMODE(info.st_mode)
        if mode & 0o077:
            raise PrivateFileError(
                f"{path} has mode {mode:04o}: group or other users may read it. "
                f"A key file must be private to its owner: chmod 600 {path}"
            )
        return file.read(), FileStamp(info.st_ino, info.st_size, info.st_mtime_ns)


def stamp_of(path: Path) -> FileStamp | None:
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return None
    return FileStamp(info.st_ino, info.st_size, info.st_mtime_ns)


def _write_temp(directory: Path, name: str, data: bytes) -> Path:
    """A new 0600 file beside the target, written and flushed to disk."""
    temp = directory / f".{name}.{secrets.token_hex(8)}.tmp"
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        os.fchmod(fd, 0o600)  # whatever the umask
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return temp


def _fsync_directory(directory: Path) -> None:
    # Makes the rename itself durable: without it a crash may bring back the old file.
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def replace_private(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` atomically (temp file, fsync, rename), mode 0600.
    A reader sees either the old file or the new one, never a mixture."""
    temp = _write_temp(path.parent, path.name, data)
    try:
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    _fsync_directory(path.parent)


def create_private(path: Path, data: bytes) -> bool:
    """Create ``path`` with ``data`` (0600) unless it exists; True when this call made it.

    ``link`` fails if the name is taken, so two processes starting at once
    cannot both create (and one overwrite) the file, and no reader ever sees it
    half-written. A file already there is found without writing anything: a
    process starting on a full disk reads the keys it has rather than failing to
    write a copy it would throw away.
    """
    if path.exists():
        return False
    private_directory(path.parent)
    temp = _write_temp(path.parent, path.name, data)
    try:
        os.link(temp, path)
    except FileExistsError:
        return False
    finally:
        temp.unlink(missing_ok=True)
    _fsync_directory(path.parent)
    return True


@contextmanager
def exclusive_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``<path>.lock`` (a sidecar: the file itself is
    replaced by rename, so locking it would lock an inode that goes away)."""
    lock_path = path.with_name(path.name + ".lock")
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock
